// Bulk: choose a CSV, see every row's errors (or what would change) before anything is
// written, then import all rows at once; and export buttons.

import { useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { Uuid } from "../types";
import { call, type Reply } from "./api";
import { ReplyError } from "./parts";
import { csvErrorText, type RowError } from "./csvErrors";

interface RowPlan {
  row: number;
  action: "create" | "update" | "unchanged";
  login: string;
}
interface Created {
  row: number;
  login: string;
  one_time_password: string;
}

export function CsvPage({ orgId }: { orgId: Uuid }) {
  const { t } = useI18n();
  const [file, setFile] = useState<{ name: string; bytes: ArrayBuffer } | null>(null);
  const [errors, setErrors] = useState<RowError[] | null>(null);
  const [plan, setPlan] = useState<RowPlan[] | null>(null);
  const [created, setCreated] = useState<Created[] | null>(null);
  const [reply, setReply] = useState<Reply | null>(null);
  const [busy, setBusy] = useState(false);

  async function send(dryRun: boolean) {
    if (!file) return;
    setBusy(true);
    setReply(null);
    const r = await call("POST", `/api/v1/orgs/${orgId}/users/import?dry_run=${dryRun}`, file.bytes, "text/csv");
    setBusy(false);
    if (r.status === 422 && r.body?.errors) {
      setErrors(r.body.errors);
      setPlan(null);
    } else if (r.status === 200) {
      setErrors(null);
      setPlan(r.body.rows);
      if (!dryRun) setCreated(r.body.created);
    } else {
      setReply(r);
    }
  }

  const counts = (plan ?? []).reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.action]: (acc[r.action] ?? 0) + 1 }), {});
  return (
    <section aria-labelledby="csv-title">
      <h2 id="csv-title">{t("admin.tab.csv")}</h2>
      <div className="admin-card">
        <h3>{t("admin.csv.importTitle")}</h3>
        <p>{t("admin.csv.intro")}</p>
        <label className="field">
          <span>{t("admin.csv.file")}</span>
          <input
            type="file"
            name="csv"
            accept=".csv,text/csv"
            onChange={async (e) => {
              const f = e.target.files?.[0];
              setErrors(null);
              setPlan(null);
              setCreated(null);
              setFile(f ? { name: f.name, bytes: await f.arrayBuffer() } : null);
            }}
          />
        </label>
        <div className="admin-actions">
          <button type="button" className="secondary" disabled={!file || busy} onClick={() => void send(true)}>
            {t("admin.csv.check")}
          </button>
          <button type="button" className="primary" disabled={!file || busy || plan === null || created !== null} onClick={() => void send(false)}>
            {t("admin.csv.import")}
          </button>
        </div>
        <ReplyError reply={reply} />
        {errors && (
          <div role="alert">
            <p className="admin-error">{t("admin.csv.refused", { n: errors.length })}</p>
            <table className="admin-table admin-csv-errors">
              <thead>
                <tr>
                  <th scope="col">{t("admin.csv.row")}</th>
                  <th scope="col">{t("admin.csv.column")}</th>
                  <th scope="col">{t("admin.csv.code")}</th>
                  <th scope="col">{t("admin.csv.message")}</th>
                </tr>
              </thead>
              <tbody>
                {errors.map((e, i) => (
                  <tr key={i}>
                    <td>{e.row}</td>
                    <td>{e.column ?? "—"}</td>
                    <td>
                      <code>{e.code}</code>
                    </td>
                    <td>{csvErrorText(t, e)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {plan && (
          <div role="status">
            <p className="admin-ok">
              {created
                ? t("admin.csv.imported", { create: counts.create ?? 0, update: counts.update ?? 0, unchanged: counts.unchanged ?? 0 })
                : t("admin.csv.checked", { create: counts.create ?? 0, update: counts.update ?? 0, unchanged: counts.unchanged ?? 0 })}
            </p>
            <table className="admin-table admin-csv-plan">
              <thead>
                <tr>
                  <th scope="col">{t("admin.csv.row")}</th>
                  <th scope="col">{t("admin.field.login")}</th>
                  <th scope="col">{t("admin.csv.action")}</th>
                  <th scope="col">{t("admin.users.oneTimePassword")}</th>
                </tr>
              </thead>
              <tbody>
                {plan.map((r) => (
                  <tr key={r.row}>
                    <td>{r.row}</td>
                    <td>{r.login}</td>
                    <td>{t(`admin.csv.action.${r.action}`)}</td>
                    <td>
                      <code>{created?.find((c) => c.row === r.row)?.one_time_password ?? ""}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div className="admin-card">
        <h3>{t("admin.csv.exportTitle")}</h3>
        <div className="admin-actions">
          <a className="button secondary" href={`/api/v1/orgs/${orgId}/users/export`} download>
            {t("admin.csv.exportUsers")}
          </a>
          <a className="button secondary" href={`/api/v1/orgs/${orgId}/stats/export`} download>
            {t("admin.stats.csv")}
          </a>
          <a className="button secondary" href="/api/v1/audit/export" download>
            {t("admin.audit.csv")}
          </a>
        </div>
      </div>
    </section>
  );
}

// The audit log: filters, newest first with "older", and the same filters as CSV.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useI18n } from "../i18n/i18n";
import { call, query, type Reply } from "./api";
import { ReplyError } from "./parts";
import { detailLines } from "./auditDetails";
import type { MessageKey } from "../i18n/catalog";

interface Entry {
  seq: number;
  at: string;
  actor_id: string | null;
  action: string;
  target_kind: string;
  target_id: string | null;
  /** An object from the API (a JSON text in older answers): never rendered as it is. */
  details: unknown;
}
const FILTERS = ["action", "actor_id", "target_id", "since", "until"] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/** The filters as the API's query (dates become the start of that UTC day). */
function params(f: Filters): Record<string, string> {
  const day = (d: string) => (d ? `${d}T00:00:00Z` : "");
  return { action: f.action.trim(), actor_id: f.actor_id.trim(), target_id: f.target_id.trim(), since: day(f.since), until: day(f.until) };
}

export function AuditPage() {
  const { t, day, time } = useI18n();
  const [filters, setFilters] = useState<Filters>({ action: "", actor_id: "", target_id: "", since: "", until: "" });
  const [applied, setApplied] = useState<Filters>(filters);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [more, setMore] = useState(false);
  const [reply, setReply] = useState<Reply | null>(null);

  const load = useCallback(async (f: Filters, before?: number) => {
    const r = await call("GET", `/api/v1/audit${query({ ...params(f), limit: 50, before_seq: before })}`);
    if (r.status !== 200) return setReply(r);
    setReply(null);
    setEntries((old) => (before ? [...old, ...r.body] : r.body));
    setMore(r.body.length === 50);
  }, []);
  useEffect(() => void load(applied), [load, applied]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied(filters);
  };
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">{t("admin.tab.audit")}</h2>
      <form className="admin-filters" onSubmit={submit}>
        {FILTERS.map((k) => (
          <label className="field" key={k}>
            <span>{t(`admin.audit.${k}`)}</span>
            <input name={k} type={k === "since" || k === "until" ? "date" : "text"} value={filters[k]} onChange={(e) => setFilters({ ...filters, [k]: e.target.value })} />
          </label>
        ))}
        <div className="admin-actions">
          <button type="submit" className="primary">
            {t("admin.audit.apply")}
          </button>
          <a className="button secondary" href={`/api/v1/audit/export${query(params(applied))}`} download>
            {t("admin.audit.csv")}
          </a>
        </div>
      </form>
      <ReplyError reply={reply} />
      <table className="admin-table admin-audit">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t("admin.audit.at")}</th>
            <th scope="col">{t("admin.audit.action")}</th>
            <th scope="col">{t("admin.audit.target")}</th>
            <th scope="col">{t("admin.audit.details")}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq}>
              <td>{e.seq}</td>
              <td>
                {day(e.at)} {time(e.at)}
              </td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>
                {e.target_kind}
                <small>{e.target_id ?? ""}</small>
              </td>
              <td className="admin-details">
                <AuditDetails details={e.details} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more && (
        <button type="button" className="secondary" onClick={() => void load(applied, entries[entries.length - 1]?.seq)}>
          {t("admin.audit.older")}
        </button>
      )}
    </section>
  );
}

/** An entry's details: changed fields as "before → after", other facts as "name: value". */
function AuditDetails({ details }: { details: unknown }) {
  const { t } = useI18n();
  const lines = detailLines(details);
  if (lines.length === 0) return null;
  const label = (field: string) => {
    const key = `admin.field.${field}` as MessageKey;
    return t(key) === key ? field : t(key);
  };
  return (
    <dl className="audit-details">
      {lines.map((l, i) => (
        <div key={`${l.field}-${i}`}>
          {l.field && <dt>{label(l.field)}</dt>}
          {l.value !== undefined ? (
            <dd>{l.value}</dd>
          ) : (
            <dd>
              <del aria-label={t("admin.audit.before")}>{l.before}</del> → <ins aria-label={t("admin.audit.after")}>{l.after}</ins>
            </dd>
          )}
        </div>
      ))}
    </dl>
  );
}

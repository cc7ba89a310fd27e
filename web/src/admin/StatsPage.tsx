// Usage statistics: per month, as bar charts and a per-department table, and as CSV.

import { useEffect, useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { Uuid } from "../types";
import { call, query, type Reply } from "./api";
import { BarChart, ReplyError, utcDay } from "./parts";

interface Count {
  metric: string;
  month: string;
  department_id: string | null;
  department: string | null;
  value: number;
}
interface Report {
  from: string;
  to: string;
  months: string[];
  active_users: { month: string; profession: string; value: number }[];
  counts: Count[];
}
const METRICS = ["messages", "conversations", "studies", "photos", "cross_org_conversations", "cross_org_messages"] as const;

export function StatsPage({ orgId }: { orgId: Uuid }) {
  const { t } = useI18n();
  const [range, setRange] = useState({ from: `${utcDay(334).slice(0, 7)}-01`, to: utcDay() });
  const [report, setReport] = useState<Report | null>(null);
  const [reply, setReply] = useState<Reply | null>(null);
  useEffect(() => {
    void call("GET", `/api/v1/orgs/${orgId}/stats${query(range)}`).then((r) => {
      setReply(r.status === 200 ? null : r);
      if (r.status === 200) setReport(r.body);
    });
  }, [orgId, range]);

  const perMonth = (metric: string) =>
    (report?.months ?? []).map((m) => ({
      label: m.slice(5),
      value: report!.counts.filter((c) => c.metric === metric && c.month === m).reduce((s, c) => s + c.value, 0),
    }));
  const lastMonth = report?.months[report.months.length - 1];
  const professions = (report?.active_users ?? []).filter((a) => a.month === lastMonth && a.profession !== "total");
  const departments = new Map<string, Record<string, number>>();
  for (const c of report?.counts ?? []) {
    if (c.metric !== "messages" && c.metric !== "conversations") continue;
    const name = c.department ?? t("admin.none");
    const row = departments.get(name) ?? {};
    row[c.metric] = (row[c.metric] ?? 0) + c.value;
    departments.set(name, row);
  }

  return (
    <section aria-labelledby="stats-title">
      <h2 id="stats-title">{t("admin.tab.stats")}</h2>
      <div className="admin-filters">
        {(["from", "to"] as const).map((k) => (
          <label className="field" key={k}>
            <span>{t(`admin.stats.${k}`)}</span>
            <input type="date" name={k} value={range[k]} onChange={(e) => e.target.value && setRange({ ...range, [k]: e.target.value })} />
          </label>
        ))}
        <div className="admin-actions">
          <a className="button secondary" href={`/api/v1/orgs/${orgId}/stats/export${query(range)}`} download>
            {t("admin.stats.csv")}
          </a>
        </div>
      </div>
      <ReplyError reply={reply} />
      {report && (
        <div className="admin-charts">
          <BarChart
            title={t("admin.stats.activeUsers", { month: lastMonth ?? "" })}
            bars={professions.map((a) => ({ label: t(`profession.${a.profession}` as MessageKey), value: a.value }))}
          />
          {METRICS.map((m) => (
            <BarChart key={m} title={t(`admin.metric.${m}`)} bars={perMonth(m)} />
          ))}
          <table className="admin-table">
            <caption>{t("admin.stats.byDepartment")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.field.department_id")}</th>
                <th scope="col">{t("admin.stats.messages")}</th>
                <th scope="col">{t("admin.stats.conversations")}</th>
              </tr>
            </thead>
            <tbody>
              {[...departments].map(([name, row]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>{row.messages ?? 0}</td>
                  <td>{row.conversations ?? 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// Usage statistics: per month, as bar charts and a per-department table, and as CSV; for a
// council, a row per member hospital and a choice of one member or all together.

import { useEffect, useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { Uuid } from "../types";
import { call, query, type Reply } from "./api";
import { BarChart, ReplyError, utcDay } from "./parts";
import { METRICS, departments, lastMonth, memberTotals, perMonth, professions, type Report, type Scope } from "./usageReport";

export function StatsPage({ orgId }: { orgId: Uuid }) {
  const { t } = useI18n();
  // No `to` until one is chosen: the server's today (its statistics day, e.g. JST).
  const [range, setRange] = useState({ from: `${utcDay(334).slice(0, 7)}-01`, to: "" });
  const [report, setReport] = useState<Report | null>(null);
  const [reply, setReply] = useState<Reply | null>(null);
  const [scope, setScope] = useState<Scope>(null);
  useEffect(() => {
    void call("GET", `/api/v1/orgs/${orgId}/stats${query(range)}`).then((r) => {
      setReply(r.status === 200 ? null : r);
      if (r.status === 200) setReport(r.body);
    });
  }, [orgId, range]);

  // A council's report: one row per member hospital, and a choice of member or all together.
  const group = !!report && (report.members.length !== 1 || report.members[0].org_id !== report.org_id);
  const shown = group && report?.members.some((m) => m.org_id === scope) ? scope : null;
  const month = report ? lastMonth(report) : undefined;
  return (
    <section aria-labelledby="stats-title">
      <h2 id="stats-title">{t("admin.tab.stats")}</h2>
      <div className="admin-filters">
        {(["from", "to"] as const).map((k) => (
          <label className="field" key={k}>
            <span>{t(`admin.stats.${k}`)}</span>
            <input type="date" name={k} value={range[k] || (report?.[k] ?? "")} onChange={(e) => e.target.value && setRange({ ...range, [k]: e.target.value })} />
          </label>
        ))}
        <div className="admin-actions">
          <a className="button secondary" href={`/api/v1/orgs/${orgId}/stats/export${query(range)}`} download>
            {t("admin.stats.csv")}
          </a>
        </div>
      </div>
      <ReplyError reply={reply} />
      {report && group && (
        <div className="admin-chart-scroll">
          <table className="admin-table" aria-labelledby="stats-members">
            <caption id="stats-members">{t("admin.stats.byMember")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.stats.member")}</th>
                <th scope="col">{t("admin.stats.activeNow", { month: month ?? "" })}</th>
                {METRICS.map((m) => (
                  <th scope="col" key={m}>
                    {t(`admin.total.${m}`)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {memberTotals(report).map(({ member, active, totals }) => (
                <tr key={member.org_id} data-org={member.slug}>
                  <th scope="row">{member.name}</th>
                  <td>{active}</td>
                  {METRICS.map((m) => (
                    <td key={m}>{totals[m]}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {report && group && report.members.length === 0 && <p>{t("admin.stats.noMembers")}</p>}
      {report && group && report.members.length > 0 && (
        <label className="field">
          <span>{t("admin.stats.member")}</span>
          <select name="member" value={shown ?? ""} onChange={(e) => setScope(e.target.value || null)}>
            <option value="">{t("admin.stats.allMembers")}</option>
            {report.members.map((m) => (
              <option key={m.org_id} value={m.org_id}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {report && (
        <div className="admin-charts">
          <BarChart
            title={t("admin.stats.activeUsers", { month: month ?? "" })}
            bars={professions(report, shown).map((a) => ({ label: t(`profession.${a.profession}` as MessageKey), value: a.value }))}
          />
          {METRICS.map((m) => (
            <BarChart
              key={m}
              title={t(`admin.metric.${m}`)}
              bars={perMonth(report, m, shown).map((b) => ({ label: b.month.slice(5), value: b.value }))}
            />
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
              {departments(report, shown, t("admin.none")).map((row) => (
                <tr key={row.key}>
                  <th scope="row">{row.label}</th>
                  <td>{row.messages}</td>
                  <td>{row.conversations}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// The usage report's figures for one member organization or all of them (a council's
// totals): per month, per department, by profession, and a row per member.

import type { Uuid } from "../types";

export interface Count {
  org_id: Uuid;
  metric: string;
  month: string;
  department_id: string | null;
  department: string | null;
  value: number;
}
export interface ActiveUsers {
  org_id: Uuid;
  month: string;
  profession: string;
  value: number;
}
export interface ReportOrg {
  org_id: Uuid;
  name: string;
  slug: string;
}
export interface Report {
  org_id: Uuid;
  members: ReportOrg[];
  from: string;
  to: string;
  months: string[];
  active_users: ActiveUsers[];
  counts: Count[];
}

export const METRICS = ["messages", "conversations", "studies", "photos", "cross_org_conversations", "cross_org_messages"] as const;
export type Metric = (typeof METRICS)[number];

/** `null` means every member together. */
export type Scope = Uuid | null;

const inScope = (scope: Scope) => (row: { org_id: Uuid }) => scope === null || row.org_id === scope;

/** A metric summed per month of the range (zero for months without counts). */
export function perMonth(report: Report, metric: string, scope: Scope): { month: string; value: number }[] {
  const rows = report.counts.filter(inScope(scope));
  return report.months.map((month) => ({
    month,
    value: rows.filter((c) => c.metric === metric && c.month === month).reduce((s, c) => s + c.value, 0),
  }));
}

/** The last month of the range. */
export function lastMonth(report: Report): string | undefined {
  return report.months[report.months.length - 1];
}

/** Active users per profession in the range's last month, summed over the members in scope
 * (without the `total` row), in first-seen order. */
export function professions(report: Report, scope: Scope): { profession: string; value: number }[] {
  const month = lastMonth(report);
  const sums = new Map<string, number>();
  for (const a of report.active_users.filter(inScope(scope))) {
    if (a.month !== month || a.profession === "total") continue;
    sums.set(a.profession, (sums.get(a.profession) ?? 0) + a.value);
  }
  return [...sums].map(([profession, value]) => ({ profession, value }));
}

/** Messages and conversations per department over the whole range. With more than one
 * member in scope, each department is named with its hospital (departments of different
 * hospitals never merge). */
export function departments(
  report: Report,
  scope: Scope,
  none: string,
): { key: string; label: string; messages: number; conversations: number }[] {
  const names = new Map(report.members.map((m) => [m.org_id, m.name]));
  const several = scope === null && report.members.length > 1;
  const rows = new Map<string, { key: string; label: string; messages: number; conversations: number }>();
  for (const c of report.counts.filter(inScope(scope))) {
    if (c.metric !== "messages" && c.metric !== "conversations") continue;
    const key = `${c.org_id}/${c.department_id ?? ""}`;
    const dept = c.department ?? none;
    const label = several ? `${names.get(c.org_id) ?? c.org_id} / ${dept}` : dept;
    const row = rows.get(key) ?? { key, label, messages: 0, conversations: 0 };
    row[c.metric] += c.value;
    rows.set(key, row);
  }
  return [...rows.values()];
}

/** One row per member: each metric over the whole range, and active users in the last month. */
export function memberTotals(report: Report): { member: ReportOrg; active: number; totals: Record<Metric, number> }[] {
  const month = lastMonth(report);
  return report.members.map((member) => {
    const totals = Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<Metric, number>;
    for (const c of report.counts) {
      if (c.org_id === member.org_id && (METRICS as readonly string[]).includes(c.metric)) totals[c.metric as Metric] += c.value;
    }
    const active =
      report.active_users.find((a) => a.org_id === member.org_id && a.month === month && a.profession === "total")?.value ?? 0;
    return { member, active, totals };
  });
}

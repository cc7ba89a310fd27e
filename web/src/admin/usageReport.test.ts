import { describe, expect, it } from "vitest";
import { departments, memberTotals, perMonth, professions, type Report } from "./usageReport";

const count = (org_id: string, metric: string, month: string, value: number, department: string | null = null) => ({
  org_id,
  metric,
  month,
  department_id: department ? `d-${org_id}-${department}` : null,
  department,
  value,
});

const council: Report = {
  org_id: "council",
  members: [
    { org_id: "oita", name: "大分病院", slug: "oita" },
    { org_id: "beppu", name: "別府病院", slug: "beppu" },
  ],
  from: "2026-10-01",
  to: "2026-11-25",
  months: ["2026-10", "2026-11"],
  active_users: [
    { org_id: "oita", month: "2026-10", profession: "total", value: 9 },
    { org_id: "oita", month: "2026-11", profession: "total", value: 3 },
    { org_id: "oita", month: "2026-11", profession: "doctor", value: 2 },
    { org_id: "oita", month: "2026-11", profession: "nurse", value: 1 },
    { org_id: "beppu", month: "2026-11", profession: "total", value: 4 },
    { org_id: "beppu", month: "2026-11", profession: "doctor", value: 4 },
  ],
  counts: [
    count("oita", "messages", "2026-10", 5, "ICU"),
    count("oita", "messages", "2026-11", 2, "ICU"),
    count("oita", "messages", "2026-11", 1),
    count("beppu", "messages", "2026-11", 7, "ICU"),
    count("beppu", "conversations", "2026-11", 2, "ICU"),
    count("beppu", "cross_org_conversations", "2026-11", 1),
    count("oita", "cross_org_conversations", "2026-11", 1),
    count("oita", "unknown_metric", "2026-11", 100),
  ],
};

describe("a council's usage report", () => {
  it("sums a metric per month for one member or all together, zero for quiet months", () => {
    expect(perMonth(council, "messages", "oita")).toEqual([
      { month: "2026-10", value: 5 },
      { month: "2026-11", value: 3 },
    ]);
    expect(perMonth(council, "messages", null)).toEqual([
      { month: "2026-10", value: 5 },
      { month: "2026-11", value: 10 },
    ]);
    expect(perMonth(council, "photos", "beppu")).toEqual([
      { month: "2026-10", value: 0 },
      { month: "2026-11", value: 0 },
    ]);
  });

  it("adds professions of the last month over members, without the total row", () => {
    expect(professions(council, null)).toEqual([
      { profession: "doctor", value: 6 },
      { profession: "nurse", value: 1 },
    ]);
    expect(professions(council, "beppu")).toEqual([{ profession: "doctor", value: 4 }]);
  });

  it("keeps departments of different hospitals apart and names their hospital", () => {
    expect(departments(council, null, "None")).toEqual([
      { key: "oita/d-oita-ICU", label: "大分病院 / ICU", messages: 7, conversations: 0 },
      { key: "oita/", label: "大分病院 / None", messages: 1, conversations: 0 },
      { key: "beppu/d-beppu-ICU", label: "別府病院 / ICU", messages: 7, conversations: 2 },
    ]);
    expect(departments(council, "oita", "None").map((d) => d.label)).toEqual(["ICU", "None"]);
  });

  it("gives one row per member with totals over the range and active users now", () => {
    const rows = memberTotals(council);
    expect(rows.map((r) => [r.member.slug, r.active, r.totals.messages, r.totals.conversations, r.totals.cross_org_conversations])).toEqual([
      ["oita", 3, 8, 0, 1],
      ["beppu", 4, 7, 2, 1],
    ]);
    expect(Object.keys(rows[0].totals)).not.toContain("unknown_metric");
  });

  it("shows a hospital's own report as its single member", () => {
    const own: Report = { ...council, org_id: "oita", members: [council.members[0]], counts: council.counts.filter((c) => c.org_id === "oita") };
    expect(memberTotals(own)).toHaveLength(1);
    expect(departments(own, null, "None").map((d) => d.label)).toEqual(["ICU", "None"]);
  });
});

import { describe, expect, it } from "vitest";
import { detailLines, shown } from "./auditDetails";

describe("audit details", () => {
  it("lists each changed field with before and after", () => {
    const details = { changes: { display_name: { before: "田中", after: "田中 一郎" }, roles: { before: [], after: ["org_admin"] } }, via: "csv" };
    expect(detailLines(details)).toEqual([
      { field: "display_name", before: "田中", after: "田中 一郎" },
      { field: "roles", before: "—", after: "org_admin" },
      { field: "via", value: "csv" },
    ]);
  });

  it("shows plain facts, nested objects as JSON, and never an object", () => {
    const lines = detailLines({ login: "sato", seq: 3, before: "old text", scope: { a: 1 } });
    expect(lines).toEqual([
      { field: "login", value: "sato" },
      { field: "seq", value: "3" },
      { field: "before", value: "old text" },
      { field: "scope", value: '{"a":1}' },
    ]);
    for (const line of lines) for (const v of Object.values(line)) expect(typeof v).toBe("string");
  });

  it("reads JSON text, and empty details are no lines", () => {
    expect(detailLines('{"n":1}')).toEqual([{ field: "n", value: "1" }]);
    expect(detailLines({})).toEqual([]);
    expect(detailLines("")).toEqual([]);
    expect(detailLines("not json")).toEqual([{ field: "", value: "not json" }]);
    expect(detailLines(null)).toEqual([{ field: "", value: "—" }]);
  });

  it("shows empty values as a dash", () => {
    expect(shown(null)).toBe("—");
    expect(shown("")).toBe("—");
    expect(shown(false)).toBe("false");
  });
});

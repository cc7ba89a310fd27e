import { describe, expect, it } from "vitest";
import { linkedSlice, linkedView, priorCandidates, sameView, sharedStudyIds } from "./compare";
import type { Study } from "../types";
import type { Chat } from "./timelines";

const study = (id: string, tail: string, date: string | null, extra: Partial<Study> = {}): Study =>
  ({ id, org_id: "org", patient_tail: tail, study_date: date, created_at: `2026-01-0${id.length}T00:00:00Z`, expired: false, modalities: ["CT"] }) as unknown as Study;

describe("studies to compare with", () => {
  const current = study("now", "3456", "2026-12-01");

  it("are the same patient tail of the same hospital, newest first, without the current one", () => {
    const known = [
      study("old", "3456", "2024-05-01"),
      study("mid", "3456", "2025-05-01"),
      study("now", "3456", "2026-12-01"),
      study("other", "9999", "2025-01-01"),
      { ...study("elsewhere", "3456", "2025-01-01"), org_id: "org2" } as Study,
      { ...study("gone", "3456", "2025-02-01"), expired: true } as Study,
      study("mid", "3456", "2025-05-01"),
    ];
    expect(priorCandidates(current, known).map((s) => s.id)).toEqual(["mid", "old"]);
  });

  it("a study without a tail matches nothing", () => {
    expect(priorCandidates(study("a", "", "2026-01-01"), [study("b", "", "2025-01-01")])).toEqual([]);
  });

  it("studies shared in loaded chats are found by their attachments", () => {
    const chat = (ids: string[][]) => ({ messages: ids.map((a) => ({ attachments: a.map((id) => ({ kind: "study", id })) })) }) as unknown as Chat;
    const photo = { messages: [{ attachments: [{ kind: "media", id: "m" }] }] } as unknown as Chat;
    expect(sharedStudyIds({ c1: chat([["s1"], ["s2", "s1"]]), c2: chat([["s3"]]), c3: photo })).toEqual(["s1", "s2", "s3"]);
  });
});

describe("linked series", () => {
  it("scrolls to the same relative position in a stack of another length", () => {
    expect(linkedSlice(0, 100, 50)).toBe(0);
    expect(linkedSlice(99, 100, 50)).toBe(49);
    expect(linkedSlice(50, 101, 201)).toBe(100);
    expect(linkedSlice(7, 20, 20)).toBe(7);
    expect(linkedSlice(3, 10, 1)).toBe(0);
  });

  it("copies window, zoom and pan, never the series or the pointer", () => {
    const moved = { series_uid: "a", slice: 10, window_center: 40, window_width: 400, zoom: 2, pan_x: 5, pan_y: -3, pointer: { x: 0.5, y: 0.5 } };
    expect(linkedView(moved, 21, 41)).toEqual({ slice: 20, window_center: 40, window_width: 400, zoom: 2, pan_x: 5, pan_y: -3 });
    expect(linkedView({ slice: 3 }, 10, 10)).toEqual({ slice: 3 });
  });

  it("tells an unchanged view from a changed one", () => {
    const v = { slice: 1, zoom: 1, pan_x: 0, pan_y: 0 };
    expect(sameView(v, { ...v })).toBe(true);
    expect(sameView(v, { ...v, slice: 2 })).toBe(false);
    expect(sameView(null, v)).toBe(false);
  });
});

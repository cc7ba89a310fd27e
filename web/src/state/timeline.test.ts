import { describe, expect, it } from "vitest";
import { applyReceipt, mergeMessages, readBy, readMarksOf, settle, unconfirmed } from "./timeline";
import { msg, pending } from "./fixtures";

const ME = "me";

describe("mergeMessages", () => {
  it("orders by seq and keeps one copy of each", () => {
    const merged = mergeMessages([msg(3), msg(5)], [msg(4), msg(5), msg(1)]);
    expect(merged.map((m) => m.seq)).toEqual([1, 3, 4, 5]);
  });

  it("lets the newer state win (an edit or a deletion)", () => {
    const edited = msg(2, { body: "fixed", edited_at: "2026-01-01T00:01:00Z" });
    const deleted = msg(3, { body: "", deleted_at: "2026-01-01T00:02:00Z" });
    const merged = mergeMessages([msg(1), msg(2), msg(3)], [edited, deleted]);
    expect(merged[1].body).toBe("fixed");
    expect(merged[2].deleted_at).not.toBeNull();
  });

  it("returns the same array when nothing changed (no re-render)", () => {
    const existing = [msg(1), msg(2)];
    expect(mergeMessages(existing, [msg(2)])).toBe(existing);
    expect(mergeMessages(existing, [])).toBe(existing);
  });

  it("merges a replayed page overlapping live events without duplicates", () => {
    const live = [msg(48), msg(49), msg(50), msg(51)];
    const page = Array.from({ length: 50 }, (_, i) => msg(i + 1));
    const merged = mergeMessages(live, page);
    expect(merged).toHaveLength(51);
    expect(new Set(merged.map((m) => m.seq)).size).toBe(51);
  });
});

describe("pending sends", () => {
  it("disappear once the stored message with their client_msg_id arrives", () => {
    const list = [pending("a"), pending("b", { status: "failed" })];
    const stored = [msg(7, { sender_id: ME, client_msg_id: "a" })];
    expect(unconfirmed(list, stored, ME).map((p) => p.client_msg_id)).toEqual(["b"]);
    expect(settle(list, stored, ME)).toHaveLength(1);
  });

  it("are not confirmed by someone else's message with the same id", () => {
    const list = [pending("a")];
    expect(unconfirmed(list, [msg(7, { client_msg_id: "a" })], ME)).toHaveLength(1);
  });

  it("keep their identity when nothing is confirmed", () => {
    const list = [pending("a")];
    expect(settle(list, [msg(1)], ME)).toBe(list);
  });

  it("a retried send that the server deduplicated shows once", () => {
    // The first try was stored, its ack was lost, the retry was answered "duplicate".
    const list = [pending("a", { status: "sending" })];
    const stored = mergeMessages([], [msg(9, { sender_id: ME, client_msg_id: "a" })]);
    const again = mergeMessages(stored, [msg(9, { sender_id: ME, client_msg_id: "a" })]);
    expect(again).toHaveLength(1);
    expect(unconfirmed(list, again, ME)).toHaveLength(0);
  });
});

describe("read receipts", () => {
  const members = [
    { user_id: ME, role: "admin", joined_seq: 1, last_read_seq: 10 },
    { user_id: "b", role: "member", joined_seq: 1, last_read_seq: 4 },
    { user_id: "c", role: "member", joined_seq: 1, last_read_seq: 0 },
  ];

  it("counts the other members who read up to the message", () => {
    const marks = readMarksOf(members);
    expect(readBy(marks, ["me", "b", "c"], ME, 4)).toEqual({ n: 1, of: 2 });
    expect(readBy(marks, ["me", "b", "c"], ME, 5)).toEqual({ n: 0, of: 2 });
  });

  it("moves marks forward with receipts, never back", () => {
    let marks = readMarksOf(members);
    marks = applyReceipt(marks, "c", 6);
    expect(readBy(marks, ["me", "b", "c"], ME, 5)).toEqual({ n: 1, of: 2 });
    const same = applyReceipt(marks, "c", 3);
    expect(same).toBe(marks);
  });
});

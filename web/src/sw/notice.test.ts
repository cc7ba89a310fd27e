import { describe, expect, it } from "vitest";
import { noticeFor, openUrl, parsePayload, receiptFor } from "./notice";

const id = "0195d7a0-0000-7000-8000-000000000000";

describe("the service worker's notification", () => {
  it("shows a message push under the conversation's tag", () => {
    const p = parsePayload({ kind: "message", conversation_id: id, seq: 7, urgent: false, text: "新着メッセージ" });
    const n = noticeFor(p);
    expect(n.title).toBe("renkei");
    expect(n.options).toMatchObject({ body: "新着メッセージ", tag: `c:${id}`, renotify: false, requireInteraction: false });
    expect(n.options.data).toEqual({ conversation_id: id, seq: 7 });
  });

  it("makes an urgent push alert again and stay", () => {
    for (const kind of ["urgent", "realert", "escalation"]) {
      const n = noticeFor(parsePayload({ kind, conversation_id: id, seq: 3, urgent: kind !== "escalation", text: "佐藤 · 5階東" }));
      expect(n.title).toBe("【至急】renkei");
      expect(n.options).toMatchObject({ body: "佐藤 · 5階東", renotify: true, requireInteraction: true });
    }
  });

  it("still shows something for a push it cannot read (browsers require it)", () => {
    expect(parsePayload("garbage")).toBeNull();
    const n = noticeFor(null);
    expect(n.options.body).toBe("新着メッセージ");
    expect(receiptFor(null)).toBeNull();
    expect(openUrl(null)).toBe("/");
  });

  it("reports the receipt and opens the conversation", () => {
    const p = parsePayload({ kind: "mention", conversation_id: id, seq: 9, urgent: false, text: "" });
    expect(p?.text).toBe("新着メッセージ");
    expect(receiptFor(p)).toEqual({ conversation_id: id, seq: 9 });
    expect(openUrl(id)).toBe(`/?c=${id}`);
  });

  it("rings for a call under its own tag, alerting on each repeat, and opens the conversation", () => {
    const p = parsePayload({ kind: "call", conversation_id: id, seq: 0, urgent: true, text: "佐藤 花子さんから着信" });
    const n = noticeFor(p);
    expect(n.title).toBe("renkei 着信");
    expect(n.options).toMatchObject({ tag: `call:${id}`, renotify: true, requireInteraction: true, body: "佐藤 花子さんから着信" });
    expect(n.options.data.conversation_id).toBe(id);
    // No message to mark delivered.
    expect(receiptFor(p)).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { chat, conv, event, msg } from "./fixtures";
import { mayHoldNotices, mergeNotices, noticeLine, noticeOf, noticesOf, pageRange, placeNotices, type Notice } from "./notices";
import { chatAfterEvent, summaryAfterEvent } from "./timelines";
import { translate } from "../i18n/i18n";

/** The server's escalation notice at `seq` (data as urgent/schedule.rs writes it). */
const escalation = (seq: number) =>
  event(seq, "system.notice", {
    actor_id: null,
    at: "2026-01-01T05:11:00Z",
    data: {
      notice: "urgent_escalated",
      recipient_id: "r",
      recipient_name: "佐藤 花子",
      sender_id: "s",
      sent_at: "2026-01-01T05:06:00Z",
      unacknowledged_minutes: 5,
      text: "server text",
    },
  });

const notice = (seq: number): Notice => noticeOf(escalation(seq))!;

describe("a system notice read from its event", () => {
  it("keeps who, when and how long, and nothing of other events", () => {
    expect(notice(7)).toMatchObject({ seq: 7, recipientName: "佐藤 花子", senderId: "s", sentAt: "2026-01-01T05:06:00Z", minutes: 5 });
    expect(noticeOf(event(3, "message.created"))).toBeNull();
    expect(noticesOf([event(3, "message.created"), escalation(4), event(5, "member.added")]).map((n) => n.seq)).toEqual([4]);
  });

  it("reads as the escalation line in Japanese and in English, with the sender's name and the time", () => {
    const line = noticeLine(notice(7), "田中 一郎", () => "14:06");
    expect(line.key).toBe("notice.escalated");
    if (!line.key) throw new Error("no key");
    expect(translate("ja", line.key, line.vars)).toBe(
      "至急メッセージ未確認の転送: 佐藤 花子さんが14:06の至急メッセージを5分間確認していません（送信者: 田中 一郎さん）",
    );
    expect(translate("en", line.key, line.vars)).toContain("佐藤 花子 has not acknowledged the urgent message of 14:06 for 5 min (from 田中 一郎)");
  });

  it("falls back on the server's text for a notice this client does not know", () => {
    const other = noticeOf(event(2, "system.notice", { data: { notice: "something_new", text: "from the server" } }))!;
    expect(noticeLine(other, "x", () => "")).toEqual({ key: null, text: "from the server" });
  });
});

describe("notices among the messages", () => {
  it("merge once per seq, in order", () => {
    const merged = mergeNotices([notice(9)], [notice(4), notice(9)]);
    expect(merged.map((n) => n.seq)).toEqual([4, 9]);
    const same = [notice(4)];
    expect(mergeNotices(same, [notice(4)])).toBe(same);
  });

  it("go before the message that follows them, or after the last one", () => {
    const messages = [msg(3), msg(5), msg(6)];
    const { before, after } = placeNotices(messages, [notice(4), notice(7)], false, false);
    expect(before.get(5)?.map((n) => n.seq)).toEqual([4]);
    expect(after.map((n) => n.seq)).toEqual([7]);
  });

  it("show in a conversation whose only entry is a notice", () => {
    expect(placeNotices([], [notice(3)], false, false).after.map((n) => n.seq)).toEqual([3]);
  });

  it("are not placed outside the loaded stretch (older messages or newer ones not loaded)", () => {
    const messages = [msg(10), msg(11)];
    const { before, after } = placeNotices(messages, [notice(2), notice(20)], true, true);
    expect(before.size).toBe(0);
    expect(after).toEqual([]);
    expect(placeNotices(messages, [notice(2)], false, false).before.get(10)?.map((n) => n.seq)).toEqual([2]);
  });

  it("move their conversation up the list without counting as a message or unread", () => {
    const patch = summaryAfterEvent(conv({ last_message: null, last_seq: 2 }), escalation(3), "me", false);
    expect(patch).toEqual({ last_seq: 3, last_message: null, updated_at: "2026-01-01T05:11:00Z" });
  });

  it("arrive live into a loaded chat, not into a window whose newer part is not loaded", () => {
    expect(chatAfterEvent(chat({ messages: [msg(5)] }), escalation(6), "me").notices?.map((n) => n.seq)).toEqual([6]);
    expect(chatAfterEvent(chat({ hasNewer: true }), escalation(6), "me").notices).toBeUndefined();
    expect(chatAfterEvent(chat({ notices: [notice(6)] }), escalation(6), "me")).toEqual({});
  });
});

describe("which events to read for a page's notices", () => {
  it("the newest page: from before its oldest message, open at the end; from the start when nothing is older", () => {
    expect(pageRange([msg(51), msg(52)], false, true)).toEqual({ after: 50, upTo: null });
    expect(pageRange([msg(3), msg(4)], true, true)).toEqual({ after: 0, upTo: null });
    expect(pageRange([], true, true)).toEqual({ after: 0, upTo: null });
  });

  it("a page after a loaded message starts after it", () => {
    expect(pageRange([msg(12), msg(13)], false, false, 10)).toEqual({ after: 10, upTo: 13 });
  });

  it("none when the page's messages take every seq (seqs are dense)", () => {
    expect(mayHoldNotices([msg(1), msg(2), msg(3)], { after: 0, upTo: null }, 3)).toBe(false);
    expect(mayHoldNotices([msg(1), msg(3)], { after: 0, upTo: null }, 3)).toBe(true);
    expect(mayHoldNotices([msg(1), msg(2)], { after: 0, upTo: null }, 3)).toBe(true);
    expect(mayHoldNotices([], { after: 0, upTo: null }, 1)).toBe(true);
    expect(mayHoldNotices([], { after: 0, upTo: null }, 0)).toBe(false);
  });
});

describe("a call's lines in the timeline", () => {
  const event = (seq: number, kind: "call.started" | "call.ended", data: Record<string, unknown>) =>
    ({ seq, kind, at: "2026-12-07T12:00:00Z", conversation_id: "c", actor_id: kind === "call.started" ? "u-a" : null, data }) as unknown as Parameters<typeof noticeOf>[0];

  it("shows who started a call, and how long it lasted or that nobody answered", () => {
    const started = noticeOf(event(4, "call.started", { call_id: "k", media: "video" }))!;
    expect(started.senderId).toBe("u-a");
    expect(noticeLine(started, "佐藤 花子", () => "")).toEqual({ key: "notice.callStartedVideo", vars: { name: "佐藤 花子" } });
    const ended = noticeOf(event(5, "call.ended", { call_id: "k", duration_seconds: 192, participants: [], end_reason: "completed" }))!;
    expect(noticeLine(ended, "", () => "")).toEqual({ key: "notice.callEnded", vars: { duration: "3:12" } });
    const missed = noticeOf(event(6, "call.ended", { call_id: "k", duration_seconds: 0, participants: [], end_reason: "no_answer" }))!;
    expect(noticeLine(missed, "", () => "").key).toBe("notice.callNotAnswered");
  });
});

describe("where the organization's message retention destroyed messages", () => {
  const expired = event(9, "messages.expired", { actor_id: null, data: { up_to_seq: 6, retention_days: 30 } });

  it("is a notice with its own line, in Japanese too", () => {
    const n = noticeOf(expired)!;
    expect(n).toMatchObject({ seq: 9, notice: "messages_expired" });
    const line = noticeLine(n, "", (iso) => iso);
    expect(line).toEqual({ key: "notice.messagesExpired", vars: {} });
    expect(translate("ja", "notice.messagesExpired")).toBe("以前のメッセージは保存期間を過ぎたため削除されました");
  });

  it("takes the destroyed messages off the screen and out of the list's last message", () => {
    const patch = chatAfterEvent(chat({ messages: [msg(5), msg(6), msg(7)] }), expired, "me");
    expect(patch.messages?.map((m) => m.seq)).toEqual([7]);
    expect(patch.notices?.map((n) => n.seq)).toEqual([9]);
    expect(summaryAfterEvent(conv({ last_seq: 6, last_message: msg(6) }), expired, "me", false)).toEqual({ last_seq: 9, last_message: null });
    expect(summaryAfterEvent(conv({ last_seq: 7, last_message: msg(7) }), expired, "me", false).last_message?.seq).toBe(7);
  });
});

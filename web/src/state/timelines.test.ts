import { describe, expect, it } from "vitest";
import { chat, conv, event, member, msg, pending } from "./fixtures";
import {
  PAGE,
  TYPING_SHOW_MS,
  afterAck,
  afterMembers,
  afterNewestPage,
  afterPosted,
  afterWindow,
  byActivity,
  chatAfterEvent,
  liveTyping,
  newerPageAfter,
  olderPageBefore,
  summaryAfterEvent,
  summaryAfterOwnReceipt,
  typingFrom,
  withConversation,
  withoutConversation,
} from "./timelines";

const ME = "me";

describe("the conversation list's summary", () => {
  it("counts a new message from someone else as unread when it is not being read", () => {
    const patch = summaryAfterEvent(conv(), event(6, "message.created"), ME, false);
    expect(patch).toMatchObject({ last_seq: 6, unread: 1, updated_at: "2026-01-01T00:05:00Z" });
    expect(patch.last_message?.seq).toBe(6);
  });

  it("does not count my own messages, nor ones on screen, nor ones already read", () => {
    const mine = event(6, "message.created", { message: msg(6, { sender_id: ME }) });
    expect(summaryAfterEvent(conv(), mine, ME, false).unread).toBe(0);
    expect(summaryAfterEvent(conv(), event(6, "message.created"), ME, true).unread).toBe(0);
    expect(summaryAfterEvent(conv({ last_read_seq: 6 }), event(6, "message.created"), ME, false).unread).toBe(0);
  });

  it("applies an edit or a deletion of the last message to the list's copy", () => {
    const edited = summaryAfterEvent(conv(), event(6, "message.edited", { data: { target_seq: 5, body: "fixed" } }), ME, false);
    expect(edited.last_message).toMatchObject({ seq: 5, body: "fixed", edited_at: "2026-01-01T00:05:00Z" });
    const deleted = summaryAfterEvent(
      conv({ last_message: msg(5, { mentions: [ME], attachments: [{ kind: "media", id: "m" }] }) }),
      event(6, "message.deleted", { data: { target_seq: 5 } }),
      ME,
      false,
    );
    expect(deleted.last_message).toMatchObject({ body: "", mentions: [], attachments: [], deleted_at: "2026-01-01T00:05:00Z" });
    expect(deleted.last_seq).toBe(6);
  });

  it("leaves the last message alone when an older one changes", () => {
    const patch = summaryAfterEvent(conv(), event(6, "message.edited", { data: { target_seq: 2, body: "x" } }), ME, false);
    expect(patch.last_message).toEqual(msg(5));
  });

  it("follows my own read receipt from another device, never backwards", () => {
    const c = conv({ last_seq: 9, last_read_seq: 5, unread: 4 });
    expect(summaryAfterOwnReceipt(c, 9)).toEqual({ last_read_seq: 9, unread: 0 });
    expect(summaryAfterOwnReceipt(c, 7)).toEqual({ last_read_seq: 7, unread: 4 });
    expect(summaryAfterOwnReceipt(c, 3)).toEqual({});
  });

  it("keeps the newest activity first, replacing a conversation's older copy", () => {
    const older = conv({ id: "a", last_message: msg(1, { created_at: "2026-01-01T00:00:00Z" }) });
    const newer = conv({ id: "b", last_message: msg(1, { created_at: "2026-01-02T00:00:00Z" }) });
    expect([older, newer].sort(byActivity).map((c) => c.id)).toEqual(["b", "a"]);
    const moved = withConversation([newer, older], { ...older, last_message: msg(2, { created_at: "2026-01-03T00:00:00Z" }) });
    expect(moved.map((c) => c.id)).toEqual(["a", "b"]);
    expect(moved).toHaveLength(2);
  });
});

describe("a chat's timeline after an event", () => {
  it("merges a new message and settles the pending send it confirms", () => {
    const mine = msg(6, { sender_id: ME, client_msg_id: "p1" });
    const patch = chatAfterEvent(chat({ messages: [msg(5)], pending: [pending("p1")] }), event(6, "message.created", { message: mine }), ME);
    expect(patch.messages?.map((m) => m.seq)).toEqual([5, 6]);
    expect(patch.pending).toEqual([]);
  });

  it("clears the sender's typing indicator", () => {
    const patch = chatAfterEvent(chat({ typing: { other: 99, third: 99 } }), event(6, "message.created"), ME);
    expect(patch.typing).toEqual({ third: 99 });
  });

  it("does not put a new message into a window around a found one (newer ones are not loaded)", () => {
    const patch = chatAfterEvent(chat({ messages: [msg(2)], hasNewer: true }), event(9, "message.created"), ME);
    expect(patch.messages).toBeUndefined();
  });

  it("applies an edit and a deletion to the copy on screen", () => {
    const before = chat({ messages: [msg(4), msg(5, { mentions: [ME] })] });
    const edited = chatAfterEvent(before, event(6, "message.edited", { data: { target_seq: 4, body: "fixed" } }), ME);
    expect(edited.messages?.[0]).toMatchObject({ body: "fixed", edited_at: "2026-01-01T00:05:00Z" });
    const deleted = chatAfterEvent(before, event(6, "message.deleted", { data: { target_seq: 5 } }), ME);
    expect(deleted.messages?.[1]).toMatchObject({ body: "", mentions: [], deleted_at: "2026-01-01T00:05:00Z" });
  });

  it("changes nothing for an edit of a message that is not loaded", () => {
    expect(chatAfterEvent(chat({ messages: [msg(5)] }), event(6, "message.edited", { data: { target_seq: 1 } }), ME)).toEqual({});
  });
});

describe("history pages and sends", () => {
  it("knows there is more before a full newest page, and nothing newer", () => {
    const full = Array.from({ length: PAGE }, (_, i) => msg(i + 11));
    expect(afterNewestPage(chat({ hasNewer: true }), full, ME)).toMatchObject({ loaded: true, hasOlder: true, hasNewer: false });
    expect(afterNewestPage(chat(), [msg(1)], ME).hasOlder).toBe(false);
  });

  it("loads a window around a found message, more on a side only when that side was full", () => {
    const patch = afterWindow(chat({ messages: [msg(90)] }), [msg(9), msg(10)], [msg(11)], 2, ME);
    expect(patch.messages?.map((m) => m.seq)).toEqual([9, 10, 11]);
    expect(patch).toMatchObject({ hasOlder: true, hasNewer: false });
  });

  it("puts a send posted over HTTP into a loaded chat, or just drops it from the pending", () => {
    const stored = msg(7, { sender_id: ME, client_msg_id: "p1" });
    const loaded = afterPosted(chat({ pending: [pending("p1")] }), stored, "p1", ME);
    expect(loaded).toMatchObject({ pending: [] });
    expect(loaded.messages?.map((m) => m.seq)).toEqual([7]);
    const notLoaded = afterPosted(chat({ loaded: false, pending: [pending("p1"), pending("p2")] }), stored, "p1", ME);
    expect(notLoaded.messages).toBeUndefined();
    expect(notLoaded.pending?.map((p) => p.client_msg_id)).toEqual(["p2"]);
  });

  it("marks an acked send with its seq", () => {
    expect(afterAck(chat({ pending: [pending("p1"), pending("p2")] }), "p2", 8).pending?.map((p) => p.seq)).toEqual([undefined, 8]);
  });
});

describe("typing indicators", () => {
  it("show for a while after the hint, then expire", () => {
    const typing = typingFrom(chat(), "other", 1_000).typing!;
    expect(typing).toEqual({ other: 1_000 + TYPING_SHOW_MS });
    expect(liveTyping(typing, 1_000 + TYPING_SHOW_MS - 1)).toBeNull();
    expect(liveTyping({ ...typing, third: 500 }, 1_000)).toEqual({ other: 1_000 + TYPING_SHOW_MS });
  });
});

describe("the list without a conversation", () => {
  it("drops it, its chat and the selection of it; others stay", () => {
    const chats = { c: chat(), d: chat() };
    const out = withoutConversation([conv(), conv({ id: "d" })], chats, "c", "c");
    expect(out.conversations.map((c) => c.id)).toEqual(["d"]);
    expect(Object.keys(out.chats)).toEqual(["d"]);
    expect(out.selected).toBeNull();
    expect(chats).toHaveProperty("c");
    expect(withoutConversation([conv(), conv({ id: "d" })], chats, "d", "c").selected).toBe("d");
  });
});

describe("where the next page loads from", () => {
  it("scrolling back: the oldest loaded seq; the start; or nothing while not loaded, loading or at the start", () => {
    expect(olderPageBefore(chat({ messages: [msg(40), msg(41)] }))).toBe(40);
    expect(olderPageBefore(chat({ messages: [msg(1)] }))).toBe("start");
    expect(olderPageBefore(chat({ messages: [] }))).toBe("start");
    expect(olderPageBefore(undefined)).toBeNull();
    expect(olderPageBefore(chat({ loaded: false, messages: [msg(40)] }))).toBeNull();
    expect(olderPageBefore(chat({ loadingOlder: true, messages: [msg(40)] }))).toBeNull();
    expect(olderPageBefore(chat({ hasOlder: false, messages: [msg(40)] }))).toBeNull();
  });

  it("scrolling down a window: its newest seq, only when newer messages exist and none are loading", () => {
    expect(newerPageAfter(chat({ hasNewer: true, messages: [msg(40), msg(41)] }))).toBe(41);
    expect(newerPageAfter(chat({ hasNewer: true, messages: [] }))).toBe(0);
    expect(newerPageAfter(chat({ messages: [msg(40)] }))).toBeNull();
    expect(newerPageAfter(chat({ hasNewer: true, loadingNewer: true, messages: [msg(40)] }))).toBeNull();
    expect(newerPageAfter(chat({ hasNewer: true, loaded: false }))).toBeNull();
  });
});

describe("the member list", () => {
  it("gives members, roles and read marks; receipts that came meanwhile are not undone", () => {
    const patch = afterMembers(chat({ readMarks: { u1: 9, u3: 4 } }), [member("u1", 7, "admin"), member("u2", 3)]);
    expect(patch.members).toEqual(["u1", "u2"]);
    expect(patch.roles).toEqual({ u1: "admin", u2: "member" });
    expect(patch.readMarks).toEqual({ u1: 9, u2: 3, u3: 4 });
    expect(afterMembers(chat({ readMarks: { u1: 2 } }), [member("u1", 7)]).readMarks).toEqual({ u1: 7 });
  });
});

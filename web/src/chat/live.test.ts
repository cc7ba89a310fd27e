import { describe, expect, it, vi } from "vitest";
import { chat, conv, event, msg } from "../state/fixtures";
import { Positions } from "../state/positions";
import { Store } from "../state/store";
import { TYPING_SHOW_MS } from "../state/timelines";
import type { Me } from "../types";
import { LiveUpdates } from "./live";

/** A signed-in session ("me") with conversation "c" in the list, its chat loaded up to 5, and fakes for the other parts. */
function setup(viewing = false) {
  const store = new Store();
  store.set({ phase: "ready", me: { user: { id: "me" } } as Me, conversations: [conv()], chats: { c: chat({ messages: [msg(5)] }) } });
  const positions = new Positions();
  const parts = {
    store,
    positions,
    socket: { synced: vi.fn() },
    sender: { resendPending: vi.fn(), acked: vi.fn(), refused: vi.fn(), stored: vi.fn() },
    readMarker: { markIfVisible: vi.fn(), isViewing: vi.fn(() => viewing) },
    conversations: { fetch: vi.fn(async () => undefined), drop: vi.fn() },
    timelines: { loadMembers: vi.fn(async () => undefined) },
    calls: { welcome: vi.fn(), frame: vi.fn(), error: vi.fn(() => false) },
  };
  return { live: new LiveUpdates(parts), ...parts };
}

describe("the server's frames", () => {
  it("synced: online, pending sends go again, and what shows is marked read", () => {
    const { live, store, socket, sender, readMarker } = setup();
    live.frame({ type: "synced" });
    expect(store.state.connection).toBe("online");
    expect(socket.synced).toHaveBeenCalled();
    expect(sender.resendPending).toHaveBeenCalled();
    expect(readMarker.markIfVisible).toHaveBeenCalled();
  });

  it("a new message from someone else: into the list (unread), the chat and the positions", () => {
    const { live, store, positions, readMarker, sender } = setup();
    live.frame({ type: "event", event: event(6, "message.created") });
    expect(store.state.conversations[0]).toMatchObject({ last_seq: 6, unread: 1 });
    expect(store.state.chats.c.messages.map((m) => m.seq)).toEqual([5, 6]);
    expect(positions.get("c")).toBe(6);
    expect(readMarker.markIfVisible).toHaveBeenCalled();
    expect(sender.stored).not.toHaveBeenCalled();
  });

  it("read at once when the reader looks at it; my own message settles its send", () => {
    const { live, store, sender } = setup(true);
    live.frame({ type: "event", event: event(6, "message.created", { message: msg(6, { sender_id: "me", client_msg_id: "mine" }) }) });
    expect(store.state.conversations[0].unread).toBe(0);
    expect(sender.stored).toHaveBeenCalledWith("mine");
  });

  it("an event of a conversation not in the list fetches it, and changes nothing else", () => {
    const { live, store, conversations } = setup();
    const before = store.state;
    live.frame({ type: "event", event: event(1, "message.created", { conversation_id: "new" }) });
    expect(conversations.fetch).toHaveBeenCalledWith("new");
    expect(store.state).toBe(before);
  });

  it("members joining reload a loaded member list; a change of details fetches the conversation", () => {
    const { live, timelines, conversations } = setup();
    live.frame({ type: "event", event: event(6, "member.added") });
    expect(timelines.loadMembers).toHaveBeenCalledWith("c");
    live.frame({ type: "event", event: event(7, "conversation.updated") });
    expect(conversations.fetch).toHaveBeenCalledWith("c");
  });

  it("acks and refusals go to the sender", () => {
    const { live, sender } = setup();
    live.frame({ type: "ack", conversation_id: "c", client_msg_id: "m1", seq: 6, duplicate: false });
    live.frame({ type: "error", code: "forbidden", message: "no", client_msg_id: "m2" });
    live.frame({ type: "error", code: "bad_frame", message: "no" });
    expect(sender.acked).toHaveBeenCalledWith("c", "m1", 6);
    expect(sender.refused).toHaveBeenCalledTimes(1);
    expect(sender.refused).toHaveBeenCalledWith("m2");
  });

  it("receipts: another's moves their read mark; my own (another device) the unread count", () => {
    const { live, store } = setup();
    store.setConversation("c", () => ({ last_seq: 9, last_read_seq: 5, unread: 4 }));
    live.frame({ type: "receipt", conversation_id: "c", user_id: "u2", seq: 5 });
    expect(store.state.chats.c.readMarks).toEqual({ u2: 5 });
    live.frame({ type: "receipt", conversation_id: "c", user_id: "me", seq: 9 });
    expect(store.state.conversations[0]).toMatchObject({ last_read_seq: 9, unread: 0 });
  });

  it("typing hints of others show until they expire; my own are ignored", () => {
    const { live, store } = setup();
    live.frame({ type: "typing", conversation_id: "c", user_id: "me" });
    expect(store.state.chats.c.typing).toEqual({});
    live.frame({ type: "typing", conversation_id: "c", user_id: "u2" });
    const until = store.state.chats.c.typing.u2;
    live.expireTyping(until - 1);
    expect(store.state.chats.c.typing).toHaveProperty("u2");
    live.expireTyping(until + TYPING_SHOW_MS);
    expect(store.state.chats.c.typing).toEqual({});
  });

  it("a conversation taken away is dropped", () => {
    const { live, conversations } = setup();
    live.frame({ type: "removed", conversation_id: "c" });
    expect(conversations.drop).toHaveBeenCalledWith("c");
  });
});

describe("delivery frames (issue 19)", () => {
  it("a send ack settles the send; an acknowledgement of an urgent message marks the chat", () => {
    const { live, store, sender } = setup();
    live.frame({ type: "ack", conversation_id: "c", client_msg_id: "x", seq: 6, duplicate: false });
    expect(sender.acked).toHaveBeenCalledWith("c", "x", 6);
    live.frame({ type: "ack", conversation_id: "c", user_id: "u2", seq: 5, acknowledged_at: "2026-12-07T04:00:00Z" });
    expect(sender.acked).toHaveBeenCalledTimes(1);
    expect(store.state.chats.c.delivery.acks[5]).toEqual({ u2: "2026-12-07T04:00:00Z" });
  });

  it("pushed, delivered and escalated marks go into a loaded chat, not into others", () => {
    const { live, store } = setup();
    live.frame({ type: "delivery", conversation_id: "c", state: "delivered", marks: [{ user_id: "u2", seq: 5 }] });
    live.frame({ type: "escalated", conversation_id: "c", seq: 5, user_id: "u3", covering_user_id: "z" });
    live.frame({ type: "delivery", conversation_id: "other", state: "pushed", marks: [{ user_id: "u2", seq: 9 }] });
    expect(store.state.chats.c.delivery.delivered).toEqual({ u2: 5 });
    expect(store.state.chats.c.delivery.escalated[5]).toEqual({ u3: "z" });
    expect(store.state.chats.other).toBeUndefined();
  });

  it("hands the socket's conn and the call frames to the calls, and refusals without a message", () => {
    const { live, calls, sender } = setup();
    live.frame({ type: "welcome", user_id: "me", conn: "42" });
    expect(calls.welcome).toHaveBeenCalledWith("42");
    const signal = { type: "call_signal" as const, call_id: "k", from_user: "u", from_conn: "7", data: { candidate: null } };
    live.frame(signal);
    live.frame({ type: "view_stop", call_id: "k", from_user: "u" });
    expect(calls.frame).toHaveBeenCalledTimes(2);
    expect(calls.frame).toHaveBeenCalledWith(signal);
    live.frame({ type: "error", code: "call_busy", message: "busy" });
    expect(calls.error).toHaveBeenCalledWith("call_busy");
    live.frame({ type: "error", code: "forbidden", message: "no", client_msg_id: "m1" });
    expect(sender.refused).toHaveBeenCalledWith("m1");
    expect(calls.error).toHaveBeenCalledTimes(1);
  });
});

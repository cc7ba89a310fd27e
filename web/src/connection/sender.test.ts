import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { emptyChat, type Chat } from "../state/timelines";
import { msg } from "../state/fixtures";
import { ACK_TIMEOUT_MS } from "./acks";
import { Sender } from "./sender";
import type { ServerSocket } from "./socket";

const post = vi.fn();
vi.mock("../api", () => ({
  api: { post: (...args: unknown[]) => post(...args) },
  ApiError: class ApiError extends Error {
    constructor(readonly status: number) {
      super("refused");
    }
  },
}));

/** A session of one loaded chat "c", with a socket that is open or not. */
function setup(open: boolean) {
  let chats: Record<string, Chat> = { c: { ...emptyChat(), loaded: true } };
  const sent: unknown[] = [];
  const socket = { send: (frame: unknown) => (open ? (sent.push(frame), true) : false) } as unknown as ServerSocket;
  const sender = new Sender(
    {
      chats: () => chats,
      setChat: (id, update) => (chats = { ...chats, [id]: { ...chats[id], ...update(chats[id]) } }),
      online: () => open,
      me: () => "me",
    },
    socket,
  );
  return { sender, sent, pending: () => chats.c.pending, chat: () => chats.c };
}

describe("sending", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    post.mockReset();
  });

  it("goes over the open socket and is pending until acked", () => {
    const { sender, sent, pending } = setup(true);
    sender.send("c", "hello", "normal", null, { mentions: ["u2"] });
    const id = pending()[0].client_msg_id;
    expect(sent).toEqual([{ type: "send", conversation_id: "c", client_msg_id: id, body: "hello", reply_to: null, priority: "normal", mentions: ["u2"] }]);
    expect(pending()[0].status).toBe("sending");
    sender.acked("c", id, 7);
    vi.advanceTimersByTime(ACK_TIMEOUT_MS * 2);
    expect(pending()[0]).toMatchObject({ seq: 7, status: "sending" });
  });

  it("fails when no ack comes, and goes again by itself after a reconnect with the same id", () => {
    const { sender, sent, pending } = setup(true);
    sender.send("c", "hello", "urgent", 3);
    vi.advanceTimersByTime(ACK_TIMEOUT_MS);
    expect(pending()[0]).toMatchObject({ status: "failed", failure: "network" });
    sender.resendPending();
    expect(pending()[0].status).toBe("sending");
    expect(sent).toHaveLength(2);
    expect((sent[1] as { client_msg_id: string }).client_msg_id).toBe(pending()[0].client_msg_id);
  });

  it("waits for the user's retry when the server refused it", () => {
    const { sender, sent, pending } = setup(true);
    sender.send("c", "hello", "normal", null);
    sender.refused(pending()[0].client_msg_id);
    sender.resendPending();
    expect(sent).toHaveLength(1);
    expect(pending()[0]).toMatchObject({ status: "failed", failure: "refused" });
    sender.retry("c", pending()[0].client_msg_id);
    expect(sent).toHaveLength(2);
  });

  it("posts over HTTP without a live socket, and the stored message replaces the pending one", async () => {
    const { sender, pending, chat } = setup(false);
    post.mockImplementation(async (_c, frame: { client_msg_id: string }) => ({ message: msg(4, { sender_id: "me", client_msg_id: frame.client_msg_id }) }));
    sender.send("c", "hello", "normal", null);
    expect(pending()).toHaveLength(1);
    await vi.runAllTimersAsync();
    expect(post).toHaveBeenCalledOnce();
    expect(pending()).toEqual([]);
    expect(chat().messages.map((m) => m.seq)).toEqual([4]);
  });
});

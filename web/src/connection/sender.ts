// Sending messages: each shows at once as pending, goes over the socket when it is online (and
// fails when its ack does not come in time) or over HTTP otherwise; failed sends go again on
// the user's retry, and the network's failures by themselves after a reconnect, always with
// the same client_msg_id, so the server stores each once.

import { api, ApiError } from "../api";
import { failureOf, markFailed, resendAll, type Failure } from "../state/outbox";
import { newClientMsgId, type Pending } from "../state/timeline";
import { afterAck, afterPosted, type Chat } from "../state/timelines";
import type { Attachment, Priority, Uuid } from "../types";
import { AckTimers } from "./acks";
import type { OutgoingMessage } from "./frames";
import type { ServerSocket } from "./socket";

/** What the sender reads and changes of the session. */
export interface SenderHost {
  chats(): Record<Uuid, Chat>;
  setChat(id: Uuid, update: (chat: Chat) => Partial<Chat>): void;
  /** The socket has caught up (sends over it are acked). */
  online(): boolean;
  me(): Uuid;
}

export class Sender {
  private acks = new AckTimers();

  constructor(
    private host: SenderHost,
    private socket: ServerSocket,
  ) {}

  /** Sends a new message to conversation `id`. */
  send(id: Uuid, body: string, priority: Priority, replyTo: number | null, extra: { mentions?: Uuid[]; attachments?: Attachment[] } = {}) {
    const pending: Pending = {
      client_msg_id: newClientMsgId(),
      conversation_id: id,
      body,
      reply_to: replyTo,
      priority,
      created_at: new Date().toISOString(),
      status: "sending",
      ...(extra.mentions?.length ? { mentions: extra.mentions } : {}),
      ...(extra.attachments?.length ? { attachments: extra.attachments } : {}),
    };
    this.host.setChat(id, (chat) => ({ pending: [...chat.pending, pending] }));
    this.transmit(pending);
  }

  /** Sends again with the same client_msg_id: the server never stores it twice. */
  retry(id: Uuid, clientMsgId: string) {
    const p = this.host.chats()[id]?.pending.find((x) => x.client_msg_id === clientMsgId);
    if (!p) return;
    const again: Pending = { ...p, status: "sending" };
    this.host.setChat(id, (ch) => ({ pending: ch.pending.map((x) => (x.client_msg_id === clientMsgId ? again : x)) }));
    this.transmit(again);
  }

  /** The socket's ack: durable at `seq`. */
  acked(conversationId: Uuid, clientMsgId: string, seq: number) {
    this.acks.settled(clientMsgId);
    this.host.setChat(conversationId, (chat) => afterAck(chat, clientMsgId, seq));
  }

  /** The stored message of a send of mine arrived (its event): no ack is awaited any more. */
  stored(clientMsgId: string) {
    this.acks.settled(clientMsgId);
  }

  /** The server refused a send (an error frame naming it): it waits for the user's retry. */
  refused(clientMsgId: string) {
    this.fail(clientMsgId, "refused");
  }

  /**
   * After a reconnect, what was on its way, and what the network lost, goes again (same ids:
   * the server stores each once); a send the server refused waits for the user's retry.
   */
  resendPending() {
    for (const [id, chat] of Object.entries(this.host.chats())) {
      const { pending, resend } = resendAll(chat.pending);
      if (resend.length === 0) continue;
      this.host.setChat(id, () => ({ pending }));
      for (const p of resend) this.transmit(p);
    }
  }

  /** Stops waiting for every ack (the session closes). */
  clear() {
    this.acks.clear();
  }

  private transmit(p: Pending) {
    const frame: OutgoingMessage = {
      client_msg_id: p.client_msg_id,
      body: p.body,
      reply_to: p.reply_to,
      priority: p.priority,
      ...(p.mentions ? { mentions: p.mentions } : {}),
      ...(p.attachments ? { attachments: p.attachments } : {}),
    };
    if (this.host.online() && this.socket.send({ type: "send", conversation_id: p.conversation_id, ...frame })) {
      this.acks.wait(p.client_msg_id, () => this.fail(p.client_msg_id, "network"));
      return;
    }
    // No live socket: post over HTTP (idempotent by client_msg_id as well).
    api.post(p.conversation_id, frame).then(
      (ack) => this.host.setChat(p.conversation_id, (chat) => afterPosted(chat, ack.message, p.client_msg_id, this.host.me())),
      (e) => this.fail(p.client_msg_id, failureOf(e instanceof ApiError ? e.status : undefined)),
    );
  }

  private fail(clientMsgId: string, why: Failure) {
    this.acks.settled(clientMsgId);
    for (const [id, chat] of Object.entries(this.host.chats())) {
      if (chat.pending.some((p) => p.client_msg_id === clientMsgId && p.seq === undefined)) {
        this.host.setChat(id, (ch) => ({
          pending: ch.pending.map((p) => (p.client_msg_id === clientMsgId ? markFailed(p, why) : p)),
        }));
      }
    }
  }
}

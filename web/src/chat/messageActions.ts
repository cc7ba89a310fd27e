// What one does to messages besides sending them (connection/sender): editing or deleting
// one's own, the typing hint (at most one every few seconds), and who has read a message.

import { api } from "../api";
import type { ServerSocket } from "../connection/socket";
import type { Store } from "../state/store";
import { mergeMessages } from "../state/timeline";
import { deletedCopy } from "../state/timelines";
import { applyDeliveryFrame, applyReceipts } from "../state/delivery";
import { pushApi } from "../push/api";
import type { Message, Uuid } from "../types";

/** The least time between two typing hints of this client. */
export const TYPING_SEND_MS = 3_000;

export class MessageActions {
  private lastTypingSent = 0;

  constructor(
    private store: Store,
    private socket: Pick<ServerSocket, "send">,
  ) {}

  /** Edits one's own message; everyone sees it through the timeline event as well. */
  async edit(id: Uuid, seq: number, body: string): Promise<void> {
    const message = await api.editMessage(id, seq, body);
    this.mergeStored(id, message);
  }

  /** Deletes one's own message (it stays as "deleted" for everyone). */
  async delete(id: Uuid, seq: number): Promise<void> {
    await api.deleteMessage(id, seq);
    const old = this.store.state.chats[id]?.messages.find((m) => m.seq === seq);
    if (old) this.mergeStored(id, deletedCopy(old, new Date().toISOString()));
  }

  /** Tells the others of conversation `id` that the user is typing (over the open socket only). */
  typing(id: Uuid) {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_SEND_MS) return;
    if (this.store.state.connection !== "online") return;
    if (this.socket.send({ type: "typing", conversation_id: id })) this.lastTypingSent = now;
  }

  /** Who of conversation `id` has read message `seq`. */
  receipts(id: Uuid, seq: number) {
    return api.receipts(id, seq);
  }

  /** How far message `seq` got with each member (into the chat's delivery marks). */
  async loadDelivery(id: Uuid, seq: number) {
    const receipts = await pushApi.receipts(id, seq);
    if (this.store.state.chats[id]) this.store.setChat(id, (ch) => ({ delivery: applyReceipts(ch.delivery, seq, receipts.readers) }));
    return receipts;
  }

  /** Acknowledges an urgent message (reading it is not acknowledging). */
  async acknowledge(id: Uuid, seq: number): Promise<void> {
    const { acknowledged_at } = await pushApi.ack(id, seq);
    const me = this.store.myId;
    if (me && this.store.state.chats[id])
      this.store.setChat(id, (ch) => ({
        delivery: applyDeliveryFrame(ch.delivery, { type: "ack", conversation_id: id, user_id: me, seq, acknowledged_at }),
      }));
  }

  private mergeStored(id: Uuid, message: Message) {
    if (this.store.state.chats[id]?.loaded) this.store.setChat(id, (ch) => ({ messages: mergeMessages(ch.messages, [message]) }));
  }
}

// What the server's frames do to the app while the socket is open: live events into the list
// and the loaded chats (state/timelines), acks and refusals to the sender, receipts, typing
// hints (shown for a while), a conversation taken away, catching up after a reconnect, and
// calls (call/controller: the socket's conn from `welcome`, call state, signalling, shared view).

import type { ServerFrame } from "../connection/frames";
import type { Sender } from "../connection/sender";
import type { ServerSocket } from "../connection/socket";
import { inboxChanged } from "../state/inboxLive";
import type { Positions } from "../state/positions";
import type { Store } from "../state/store";
import { applyReceipt } from "../state/timeline";
import { applyDeliveryFrame, isAckOfUrgent, type DeliveryFrame } from "../state/delivery";
import { chatAfterEvent, liveTyping, summaryAfterEvent, summaryAfterOwnReceipt, typingFrom } from "../state/timelines";
import type { TimelineEvent } from "../types";
import type { ConversationList } from "./conversations";
import type { TimelineLoader } from "./loading";
import type { ReadMarker } from "./markRead";
import type { CallController } from "../call/controller";

/** The parts of the session that frames reach. */
export interface LiveParts {
  store: Store;
  positions: Positions;
  socket: Pick<ServerSocket, "synced">;
  sender: Pick<Sender, "resendPending" | "acked" | "refused" | "stored">;
  readMarker: Pick<ReadMarker, "markIfVisible" | "isViewing">;
  conversations: Pick<ConversationList, "fetch" | "drop">;
  timelines: Pick<TimelineLoader, "loadMembers">;
  calls: Pick<CallController, "welcome" | "frame" | "error">;
}

export class LiveUpdates {
  constructor(private parts: LiveParts) {}

  /** One frame from the server. */
  frame(frame: ServerFrame) {
    const { store, sender } = this.parts;
    switch (frame.type) {
      case "welcome":
        return this.parts.calls.welcome(frame.conn);
      case "call":
      case "call_signal":
      case "view_share":
      case "view_stop":
        return this.parts.calls.frame(frame);
      case "synced":
        this.parts.socket.synced();
        store.set({ connection: "online" });
        sender.resendPending();
        this.parts.readMarker.markIfVisible();
        return;
      case "event":
        return this.event(frame.event);
      case "ack":
        if (isAckOfUrgent(frame)) return this.delivery(frame);
        if ("client_msg_id" in frame) sender.acked(frame.conversation_id, frame.client_msg_id, frame.seq);
        return;
      case "delivery":
      case "escalated":
        return this.delivery(frame);
      case "error":
        if (frame.client_msg_id) sender.refused(frame.client_msg_id);
        else this.parts.calls.error(frame.code);
        return;
      case "receipt": {
        const { conversation_id: id, user_id, seq } = frame;
        if (store.state.chats[id]) store.setChat(id, (chat) => ({ readMarks: applyReceipt(chat.readMarks, user_id, seq) }));
        if (user_id === store.state.me?.user.id) store.setConversation(id, (c) => summaryAfterOwnReceipt(c, seq));
        return;
      }
      case "typing":
        if (frame.user_id === store.state.me?.user.id) return;
        store.setChat(frame.conversation_id, (chat) => typingFrom(chat, frame.user_id, Date.now()));
        return;
      case "inbox_changed":
        return inboxChanged(frame.study_id);
      case "removed":
        return this.parts.conversations.drop(frame.conversation_id);
    }
  }

  /** A delivery step of a loaded chat's message (others are read from the receipts when
   * shown). */
  private delivery(frame: DeliveryFrame) {
    const { store } = this.parts;
    const id = frame.conversation_id;
    if (store.state.chats[id]) store.setChat(id, (chat) => ({ delivery: applyDeliveryFrame(chat.delivery, frame) }));
  }

  /** Typing indicators whose time ran out at `now` disappear. */
  expireTyping(now: number) {
    const { store } = this.parts;
    for (const [id, chat] of Object.entries(store.state.chats)) {
      const typing = liveTyping(chat.typing, now);
      if (typing) store.setChat(id, () => ({ typing }));
    }
  }

  private event(event: TimelineEvent) {
    const { store, positions, conversations } = this.parts;
    const id = event.conversation_id;
    positions.observe(id, event.seq);
    if (!store.state.conversations.some((c) => c.id === id)) return void conversations.fetch(id);
    const me = store.myId;
    const viewing = this.parts.readMarker.isViewing(id);
    store.setConversation(id, (c) => summaryAfterEvent(c, event, me, viewing));
    const chat = store.state.chats[id];
    // Also into a chat whose first page is still loading (e.g. one just shared into): the page
    // is merged with what arrived meanwhile, so nothing that raced it goes missing.
    if (chat) store.setChat(id, (ch) => chatAfterEvent(ch, event, me));
    if (event.message?.sender_id === me) this.parts.sender.stored(event.message.client_msg_id);
    if (chat?.loaded && (event.kind === "member.added" || event.kind === "member.removed")) void this.parts.timelines.loadMembers(id);
    if (event.kind === "conversation.updated") void conversations.fetch(id);
    if (event.kind === "message.created") this.parts.readMarker.markIfVisible();
  }
}

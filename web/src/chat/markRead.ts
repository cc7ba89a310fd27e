// Posting read marks for what the user is looking at (state/readMarks decides up to where), one
// request per conversation at a time; a message that arrived meanwhile is marked after it.

import { api } from "../api";
import { isViewing, readMarkToPost } from "../state/readMarks";
import type { Store } from "../state/store";
import type { Uuid } from "../types";

export class ReadMarker {
  private inflight = new Set<Uuid>();

  constructor(private store: Store) {}

  /** Whether the user looks at conversation `id` now (open, and the page showing). */
  isViewing(id: Uuid): boolean {
    return isViewing(this.store.state, id, typeof document === "undefined" || document.visibilityState === "visible");
  }

  /** Posts the read mark of the open conversation, if the user sees something unread in it. */
  markIfVisible() {
    const { selected: id, conversations, chats } = this.store.state;
    if (!id || !this.isViewing(id)) return;
    const conversation = conversations.find((c) => c.id === id);
    const seq = readMarkToPost(conversation, chats[id]);
    if (!conversation || seq === null || this.inflight.has(id)) return;
    this.inflight.add(id);
    this.store.setConversation(id, () => ({ unread: 0, last_read_seq: Math.max(conversation.last_read_seq, seq) }));
    api
      .markRead(id, seq)
      .catch(() => undefined)
      .finally(() => {
        this.inflight.delete(id);
        const now = this.store.state.conversations.find((c) => c.id === id);
        if (now && now.last_seq > seq) this.markIfVisible();
      });
  }

  /** Forgets the requests on their way (the session closes). */
  clear() {
    this.inflight.clear();
  }
}

// The conversation list from the server: loaded after sign-in, one conversation fetched when an
// event names it (new to this user, or its details changed), created, or dropped from the list.

import { api } from "../api";
import type { Positions } from "../state/positions";
import type { Store } from "../state/store";
import { byActivity, withConversation, withoutConversation } from "../state/timelines";
import type { Conversation, Uuid } from "../types";
import type { People } from "./people";

export class ConversationList {
  private fetching = new Set<Uuid>();

  constructor(
    private store: Store,
    private positions: Positions,
    private people: People,
  ) {}

  /** The whole list (after sign-in). */
  async load() {
    const list = await api.conversations();
    for (const c of list) this.positions.observe(c.id, c.last_seq);
    this.store.set({ conversations: list.sort(byActivity), listLoaded: true });
    for (const c of list) if (c.kind === "direct") void this.people.loadPeer(c.id);
  }

  /** Conversation `id` as the server has it now, into the list (once at a time). */
  async fetch(id: Uuid) {
    if (this.fetching.has(id)) return;
    this.fetching.add(id);
    const generation = this.store.generation;
    try {
      const c = await api.conversation(id);
      if (generation !== this.store.generation) return;
      this.put(c);
    } catch {
      /* not visible to us (removed meanwhile) */
    } finally {
      this.fetching.delete(id);
    }
  }

  /** Starts a conversation; its id. */
  async create(kind: "direct" | "group", members: Uuid[], title?: string): Promise<Uuid> {
    const c = await api.createConversation(kind, members, title);
    this.put(c);
    return c.id;
  }

  /** Conversation `id` is no longer this user's (removed, or left): out of the list and memory. */
  drop(id: Uuid) {
    this.positions.forget(id);
    const { conversations, chats, selected } = this.store.state;
    this.store.set(withoutConversation(conversations, chats, selected, id));
  }

  /** Forgets the fetches on their way (the session closes). */
  clear() {
    this.fetching.clear();
  }

  private put(c: Conversation) {
    this.positions.observe(c.id, c.last_seq);
    this.store.set({ conversations: withConversation(this.store.state.conversations, c) });
    if (c.kind === "direct") void this.people.loadPeer(c.id);
  }
}

// The app's state as one value in memory, and its subscription (useSyncExternalStore): each
// change replaces the value and tells the listeners. Nothing here is persisted.

import type { Phase } from "./phase";
import { byActivity, emptyChat, type Chat } from "./timelines";
import type { Conversation, Me, Person, Uuid } from "../types";

export type Connection = "connecting" | "online" | "offline";

export interface State {
  phase: Phase;
  me: Me | null;
  conversations: Conversation[];
  listLoaded: boolean;
  chats: Record<Uuid, Chat>;
  users: Record<Uuid, Person>;
  /** the other person of each direct conversation */
  peers: Record<Uuid, Uuid>;
  selected: Uuid | null;
  connection: Connection;
  online: boolean;
  /** why the lock screen shows: the session started locked, idle time, or the server said so */
  lockReason: "start" | "idle" | "server" | "manual" | null;
  /** enrolling a second factor of one's own will (may be cancelled), not because sign-in needs it */
  enrollVoluntary: boolean;
  /** changing one's password or passcode from the menu (may be cancelled) */
  changeVoluntary: boolean;
}

export const initialState = (): State => ({
  phase: "starting",
  me: null,
  conversations: [],
  listLoaded: false,
  chats: {},
  users: {},
  peers: {},
  selected: null,
  connection: "connecting",
  online: typeof navigator === "undefined" ? true : navigator.onLine,
  lockReason: null,
  enrollVoluntary: false,
  changeVoluntary: false,
});

export class Store {
  state: State = initialState();
  /**
   * Counts the resets: work started before one (a page on its way) compares the generation it
   * started in with this, and drops its result when the data it was for is gone.
   */
  generation = 0;
  private listeners = new Set<() => void>();

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  getState = () => this.state;

  set(patch: Partial<State>) {
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((l) => l());
  }

  /** Drops every piece of data (a new generation starts), keeping only `patch`. */
  reset(patch: Partial<State>) {
    this.generation++;
    this.set({ ...initialState(), ...patch });
  }

  /** Changes conversation `id`'s chat (an empty one when it has none yet). */
  setChat(id: Uuid, update: (chat: Chat) => Partial<Chat>) {
    const chat = this.state.chats[id] ?? emptyChat();
    this.set({ chats: { ...this.state.chats, [id]: { ...chat, ...update(chat) } } });
  }

  /** Changes conversation `id`'s summary in the list, which stays in order. */
  setConversation(id: Uuid, update: (c: Conversation) => Partial<Conversation>) {
    const list = this.state.conversations.map((c) => (c.id === id ? { ...c, ...update(c) } : c));
    this.set({ conversations: list.sort(byActivity) });
  }

  /** The signed-in user's id ("" before sign-in). */
  get myId(): Uuid {
    return this.state.me?.user.id ?? "";
  }
}

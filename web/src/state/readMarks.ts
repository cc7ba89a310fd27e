// Which read mark the user's looking posts: whether they are looking at a conversation, and up
// to which message they have read it. Pure, so the rule is tested.

import type { Conversation, Uuid } from "../types";
import type { Phase } from "./phase";
import type { Chat } from "./timelines";

/** Whether the user looks at conversation `id`: the app is ready, it is open, the page shows. */
export function isViewing(app: { phase: Phase; selected: Uuid | null }, id: Uuid, pageVisible: boolean): boolean {
  return app.phase === "ready" && app.selected === id && pageVisible;
}

/**
 * The seq to mark `conversation` read up to, its `chat` being on screen: its newest message (a
 * window in the middle, a search result, reads up to what is on screen only); null when that
 * is read already or the chat is not loaded.
 */
export function readMarkToPost(conversation: Conversation | undefined, chat: Chat | undefined): number | null {
  if (!conversation || !chat?.loaded) return null;
  const newest = chat.messages[chat.messages.length - 1]?.seq ?? 0;
  const seq = chat.hasNewer ? newest : Math.max(newest, conversation.last_seq);
  return seq <= conversation.last_read_seq && conversation.unread === 0 ? null : seq;
}

// What a member's notification level (all, mentions, mute) changes in the app itself (the server
// decides the pushes): how a conversation's unread count is shown.

import type { Conversation } from "../types";

type Level = Pick<Conversation, "notify" | "unread" | "last_message"> & { mentionsMe?: boolean };

/** A muted conversation's unread messages do not add to the total on the chats tab. */
export function countsInTotal(c: Pick<Conversation, "notify">): boolean {
  return (c.notify ?? "all") !== "mute";
}

/** The unread badge is grey (not the brand colour) when muted, or set to mentions and the
 * newest message is neither urgent nor a mention of me. */
export function badgeQuiet(c: Level, me?: string): boolean {
  const level = c.notify ?? "all";
  if (level === "all") return false;
  if (level === "mute") return true;
  const last = c.last_message;
  const loud = !!last && (last.priority === "urgent" || (!!me && last.mentions.includes(me)));
  return !loud;
}

// Where a conversation opens and what "jump to latest" counts: pure rules over the timeline.

import type { Message, Uuid } from "../types";

/** The first message by someone else after `lastReadSeq`, or null (open at the newest then). */
export function firstUnreadSeq(messages: Message[], lastReadSeq: number, me: Uuid): number | null {
  return messages.find((m) => m.seq > lastReadSeq && m.sender_id !== me && !m.deleted_at)?.seq ?? null;
}

/** Messages by others newer than `seenSeq` (arrived while the reader was scrolled up). */
export function newSince(messages: Message[], seenSeq: number, me: Uuid): number {
  let n = 0;
  for (let i = messages.length - 1; i >= 0 && messages[i].seq > seenSeq; i--) if (messages[i].sender_id !== me) n++;
  return n;
}

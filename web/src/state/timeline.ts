// Pure logic of a conversation's timeline: merging history pages and live events, pending
// sends, and read receipts. No I/O here, so all of it is unit-tested.

import type { Attachment, Member, Message, Uuid } from "../types";

/** A message this client is sending: shown at once, replaced by the stored one when it arrives. */
export interface Pending {
  client_msg_id: string;
  conversation_id: Uuid;
  body: string;
  reply_to: number | null;
  priority: "normal" | "urgent";
  created_at: string;
  status: "sending" | "failed";
  mentions?: Uuid[];
  attachments?: Attachment[];
  /** Set by the server's ack: durable at this seq, the event may still be on its way. */
  seq?: number;
  /** Why it failed (state/outbox): the network's sends go again after a reconnect. */
  failure?: "network" | "refused";
}

/**
 * Merges `incoming` into `existing` (both sorted by seq): one entry per seq, the incoming copy
 * winning (it is newer: an edit or a deletion). Returns `existing` itself when nothing changed.
 */
export function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return existing;
  const bySeq = new Map<number, Message>();
  for (const m of existing) bySeq.set(m.seq, m);
  let changed = false;
  for (const m of incoming) {
    const old = bySeq.get(m.seq);
    if (old !== m && !(old && sameState(old, m))) {
      bySeq.set(m.seq, m);
      changed = true;
    }
  }
  if (!changed) return existing;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function sameState(a: Message, b: Message): boolean {
  return a.id === b.id && a.edited_at === b.edited_at && a.deleted_at === b.deleted_at && a.body === b.body;
}

/** Pending sends not yet visible as stored messages of `me` (matched by client_msg_id). */
export function unconfirmed(pending: Pending[], messages: Message[], me: Uuid): Pending[] {
  if (pending.length === 0) return pending;
  const stored = new Set(messages.filter((m) => m.sender_id === me).map((m) => m.client_msg_id));
  return pending.filter((p) => !stored.has(p.client_msg_id));
}

/** Drops the pending sends that the stored messages confirm. */
export function settle(pending: Pending[], messages: Message[], me: Uuid): Pending[] {
  const left = unconfirmed(pending, messages, me);
  return left.length === pending.length ? pending : left;
}

/** "Read by N of M": the members other than the sender who have read up to `seq`. */
export function readBy(
  readMarks: Record<Uuid, number>,
  members: Uuid[],
  sender: Uuid,
  seq: number,
): { n: number; of: number } {
  const others = members.filter((id) => id !== sender);
  return { n: others.filter((id) => (readMarks[id] ?? 0) >= seq).length, of: others.length };
}

/** The read marks of a member list, moved forward by later receipts (never back). */
export function readMarksOf(members: Member[]): Record<Uuid, number> {
  const marks: Record<Uuid, number> = {};
  for (const m of members) marks[m.user_id] = m.last_read_seq;
  return marks;
}

export function applyReceipt(
  marks: Record<Uuid, number>,
  user: Uuid,
  seq: number,
): Record<Uuid, number> {
  return (marks[user] ?? 0) >= seq ? marks : { ...marks, [user]: seq };
}

/** A fresh id for a message: unique per sender, reused by every retry of that message. */
export function newClientMsgId(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `m-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

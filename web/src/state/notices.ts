// The server's system notices in a timeline (`system.notice` events, e.g. an urgent message
// escalated to the covering colleague; and the lines a call leaves, `call.started` and
// `call.ended`; where retention destroyed older messages, `messages.expired`): read from an event, merged by seq, placed between the
// loaded messages, and the range of seqs whose events hold the notices of a loaded page.

import type { Message, TimelineEvent } from "../types";
import { durationLabel } from "./call";

type NoticeKey =
  | "notice.escalated"
  | "notice.callStartedVoice"
  | "notice.callStartedVideo"
  | "notice.callEnded"
  | "notice.callNotAnswered"
  | "notice.messagesExpired";

/** A system notice the server wrote into a conversation; only who, when and how long. */
export interface Notice {
  seq: number;
  at: string;
  /** "urgent_escalated"; another notice shows with its own text */
  notice: string;
  recipientName: string;
  senderId: string | null;
  sentAt: string | null;
  minutes: number;
  /** the server's own text (both languages), for a notice this client does not know */
  text: string;
  /** a call's line: voice or video, how long it lasted, why it ended */
  call?: { media: string; seconds: number; reason: string | null };
}

/** The notice of a `system.notice` event; null for any other event. */
export function noticeOf(event: TimelineEvent): Notice | null {
  const d = (event.data ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  if (event.kind === "call.started" || event.kind === "call.ended") {
    return {
      seq: event.seq,
      at: event.at,
      notice: event.kind === "call.started" ? "call_started" : "call_ended",
      recipientName: "",
      senderId: event.actor_id ?? null,
      sentAt: null,
      minutes: 0,
      text: "",
      call: { media: str(d.media) ?? "audio", seconds: typeof d.duration_seconds === "number" ? d.duration_seconds : 0, reason: str(d.end_reason) },
    };
  }
  if (event.kind === "messages.expired") {
    // The organization's message retention destroyed the messages up to `up_to_seq`.
    return { seq: event.seq, at: event.at, notice: "messages_expired", recipientName: "", senderId: null, sentAt: null, minutes: 0, text: "" };
  }
  if (event.kind !== "system.notice") return null;
  return {
    seq: event.seq,
    at: event.at,
    notice: str(d.notice) ?? "",
    recipientName: str(d.recipient_name) ?? "",
    senderId: str(d.sender_id),
    sentAt: str(d.sent_at),
    minutes: typeof d.unacknowledged_minutes === "number" ? d.unacknowledged_minutes : 0,
    text: str(d.text) ?? "",
  };
}

/** The notices among `events`. */
export function noticesOf(events: TimelineEvent[]): Notice[] {
  return events.map(noticeOf).filter((n): n is Notice => n !== null);
}

/** `incoming` merged into `existing`: one per seq, by seq. Returns `existing` when nothing is new. */
export function mergeNotices(existing: Notice[], incoming: Notice[]): Notice[] {
  const fresh = incoming.filter((n) => !existing.some((e) => e.seq === n.seq));
  if (fresh.length === 0) return existing;
  return [...existing, ...fresh].sort((a, b) => a.seq - b.seq);
}

/**
 * The seqs whose events hold the notices that go with a page of messages: after `after`, up
 * to `upTo` (null: up to the newest). A page's range starts after the message before it (its
 * oldest seq − 1, or 0 when nothing is older; `after` for a page after a loaded message) and
 * ends at its newest (or open, for the newest page).
 */
export function pageRange(
  page: Message[],
  reachesStart: boolean,
  reachesEnd: boolean,
  after?: number,
): { after: number; upTo: number | null } {
  const first = page[0]?.seq;
  const last = page[page.length - 1]?.seq;
  after ??= reachesStart || first === undefined ? 0 : first - 1;
  return { after, upTo: reachesEnd || last === undefined ? null : last };
}

/**
 * Whether the events of `range` may hold a notice: not when the page's messages take every seq
 * of it (seqs are dense: each event takes the next), up to `lastSeq` for an open range.
 */
export function mayHoldNotices(page: Message[], range: { after: number; upTo: number | null }, lastSeq: number): boolean {
  const upTo = range.upTo ?? Math.max(lastSeq, page[page.length - 1]?.seq ?? 0);
  const taken = new Set(page.map((m) => m.seq));
  for (let seq = range.after + 1; seq <= upTo; seq++) if (!taken.has(seq)) return true;
  return false;
}

/**
 * Where the notices go among the loaded messages: those before a message keyed by its seq,
 * the rest after the last one. A notice outside the loaded stretch (older than the oldest
 * message while older ones exist, or newer than a window's newest) is not placed.
 */
export function placeNotices(
  messages: Message[],
  notices: Notice[],
  hasOlder: boolean,
  hasNewer: boolean,
): { before: Map<number, Notice[]>; after: Notice[] } {
  const before = new Map<number, Notice[]>();
  const after: Notice[] = [];
  const first = messages[0]?.seq;
  const last = messages[messages.length - 1]?.seq;
  for (const n of notices) {
    if (first === undefined || last === undefined) {
      after.push(n);
      continue;
    }
    if (n.seq < first && hasOlder) continue;
    if (n.seq > last) {
      if (!hasNewer) after.push(n);
      continue;
    }
    const next = messages.find((m) => m.seq > n.seq);
    if (!next) continue;
    before.set(next.seq, [...(before.get(next.seq) ?? []), n]);
  }
  return { before, after };
}

/** The catalogue key and values of a notice's line; `time` formats an instant (the reader's clock). */
export function noticeLine(
  n: Notice,
  senderName: string,
  time: (iso: string) => string,
): { key: NoticeKey; vars: Record<string, string | number> } | { key: null; text: string } {
  if (n.call && n.notice === "call_started") return { key: n.call.media === "video" ? "notice.callStartedVideo" : "notice.callStartedVoice", vars: { name: senderName } };
  if (n.call && n.notice === "call_ended") {
    if (n.call.seconds === 0 && n.call.reason !== "completed") return { key: "notice.callNotAnswered", vars: {} };
    return { key: "notice.callEnded", vars: { duration: durationLabel(n.call.seconds * 1000) } };
  }
  if (n.notice === "messages_expired") return { key: "notice.messagesExpired", vars: {} };
  if (n.notice !== "urgent_escalated" || !n.sentAt) return { key: null, text: n.text };
  return {
    key: "notice.escalated",
    vars: { recipient: n.recipientName, time: time(n.sentAt), minutes: n.minutes, sender: senderName },
  };
}

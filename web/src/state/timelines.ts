// The loaded conversations as data: each chat's timeline and the conversation list's summaries,
// and what a history page, a live event, an ack, a receipt or a typing hint does to them. Pure
// functions returning the changed fields (the session applies them), so all of it is tested.

import type { Conversation, Member, Message, TimelineEvent, Uuid } from "../types";
import { applyReceipt, mergeMessages, readMarksOf, settle, type Pending } from "./timeline";
import { emptyDelivery, type DeliveryMarks } from "./delivery";
import { mergeNotices, noticeOf, type Notice } from "./notices";

/** One conversation's loaded timeline. */
export interface Chat {
  messages: Message[];
  loaded: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  pending: Pending[];
  members: Uuid[];
  readMarks: Record<Uuid, number>;
  /** user → time (ms) their typing indicator expires */
  typing: Record<Uuid, number>;
  error: boolean;
  /** a window around a found message is loaded: newer messages exist beyond it */
  hasNewer: boolean;
  loadingNewer: boolean;
  /** the message to scroll to and highlight (a search result); nonce: each request anew */
  focus: { seq: number; nonce: number } | null;
  /** member → their role in the group */
  roles: Record<Uuid, string>;
  /** how far the messages got with each member (pushed, delivered, acknowledged) */
  delivery: DeliveryMarks;
  /** the server's system notices loaded with the pages or arrived live (state/notices) */
  notices: Notice[];
}

/** How many messages a history page holds. */
export const PAGE = 50;
/** How long another member's typing indicator shows after their hint. */
export const TYPING_SHOW_MS = 6_000;

export const emptyChat = (): Chat => ({
  messages: [],
  loaded: false,
  hasOlder: true,
  loadingOlder: false,
  pending: [],
  members: [],
  readMarks: {},
  typing: {},
  error: false,
  hasNewer: false,
  loadingNewer: false,
  focus: null,
  roles: {},
  delivery: emptyDelivery(),
  notices: [],
});

/** The list's order: the newest activity (last message, or the last change) first. */
export function byActivity(a: Conversation, b: Conversation): number {
  const at = a.last_message?.created_at ?? a.updated_at;
  const bt = b.last_message?.created_at ?? b.updated_at;
  return bt.localeCompare(at);
}

/** The list with `conversation` in it (added, or replacing its older copy), in order. */
export function withConversation(list: Conversation[], conversation: Conversation): Conversation[] {
  return [...list.filter((c) => c.id !== conversation.id), conversation].sort(byActivity);
}

/** The app's conversations without `id` (removed from it, or left): its chat gone, unselected. */
export function withoutConversation(
  list: Conversation[],
  chats: Record<Uuid, Chat>,
  selected: Uuid | null,
  id: Uuid,
): { conversations: Conversation[]; chats: Record<Uuid, Chat>; selected: Uuid | null } {
  const rest = { ...chats };
  delete rest[id];
  return { conversations: list.filter((c) => c.id !== id), chats: rest, selected: selected === id ? null : selected };
}

// ---- history pages ----

/** Where scrolling back loads from: the oldest loaded seq; "start" when there is nothing before it; null when not now. */
export function olderPageBefore(chat: Chat | undefined): number | "start" | null {
  if (!chat?.loaded || !chat.hasOlder || chat.loadingOlder) return null;
  const oldest = chat.messages[0]?.seq;
  return !oldest || oldest <= 1 ? "start" : oldest;
}

/** Where scrolling down a window in the middle loads from: its newest seq; null when not now. */
export function newerPageAfter(chat: Chat | undefined): number | null {
  if (!chat?.loaded || !chat.hasNewer || chat.loadingNewer) return null;
  return chat.messages[chat.messages.length - 1]?.seq ?? 0;
}

/** The newest page arrived (opening a chat, or jumping back to the latest). */
export function afterNewestPage(chat: Chat, page: Message[], me: Uuid): Partial<Chat> {
  const messages = mergeMessages(chat.messages, page);
  return {
    messages,
    loaded: true,
    error: false,
    hasNewer: false,
    hasOlder: page.length === PAGE,
    pending: settle(chat.pending, messages, me),
  };
}

/** The page before the oldest loaded message arrived (scrolling back). */
export function afterOlderPage(chat: Chat, page: Message[]): Partial<Chat> {
  return { messages: mergeMessages(chat.messages, page), hasOlder: page.length === PAGE, loadingOlder: false };
}

/** The page after the newest loaded message of a window arrived (scrolling down it). */
export function afterNewerPage(chat: Chat, page: Message[]): Partial<Chat> {
  return { messages: mergeMessages(chat.messages, page), hasNewer: page.length === PAGE, loadingNewer: false };
}

/** A window around a found message: `before` ends with it, `after` follows (each `half` long). */
export function afterWindow(chat: Chat, before: Message[], after: Message[], half: number, me: Uuid): Partial<Chat> {
  const page = [...before, ...after];
  return {
    messages: mergeMessages([], page),
    loaded: true,
    hasOlder: before.length === half,
    hasNewer: after.length === half,
    pending: settle(chat.pending, page, me),
  };
}

/** The member list arrived: who is in it, their roles, and read marks (receipts that came meanwhile are not undone). */
export function afterMembers(chat: Chat, members: Member[]): Partial<Chat> {
  let marks = readMarksOf(members);
  for (const [user, seq] of Object.entries(chat.readMarks)) marks = applyReceipt(marks, user, seq);
  return {
    members: members.map((m) => m.user_id),
    readMarks: marks,
    roles: Object.fromEntries(members.map((m) => [m.user_id, m.role])),
  };
}

/** A send posted over HTTP was stored: into the timeline when it is loaded, off the pending. */
export function afterPosted(chat: Chat, stored: Message, clientMsgId: string, me: Uuid): Partial<Chat> {
  if (!chat.loaded) return { pending: chat.pending.filter((p) => p.client_msg_id !== clientMsgId) };
  const messages = mergeMessages(chat.messages, [stored]);
  return { messages, pending: settle(chat.pending, messages, me) };
}

/** The server's ack over the socket: the send is durable at `seq` (its event may follow). */
export function afterAck(chat: Chat, clientMsgId: string, seq: number): Partial<Chat> {
  return { pending: chat.pending.map((p) => (p.client_msg_id === clientMsgId ? { ...p, seq } : p)) };
}

// ---- live events ----

/** Which message an edit or a deletion names, if the event is one. */
export function changedSeq(event: TimelineEvent): number | null {
  if (event.kind !== "message.edited" && event.kind !== "message.deleted") return null;
  const target = Number(event.data?.target_seq);
  return target ? target : null;
}

/** `message` as an edit or a deletion leaves it (a deleted one keeps nothing: the server's rule). */
export function changedBy(message: Message, event: TimelineEvent): Message {
  return event.kind === "message.deleted"
    ? { ...message, body: "", attachments: [], mentions: [], deleted_at: event.at }
    : { ...message, body: String(event.data.body ?? message.body), edited_at: event.at };
}

/** A deletion made here, before its event arrives. */
export function deletedCopy(message: Message, at: string): Message {
  return { ...message, body: "", attachments: [], mentions: [], deleted_at: at };
}

/**
 * A conversation's summary after one of its events: the newest seq, the last message (a new
 * one, or the changed copy of it), and the unread count (a new message from someone else that
 * the reader is not looking at).
 */
export function summaryAfterEvent(c: Conversation, event: TimelineEvent, me: Uuid, viewing: boolean): Partial<Conversation> {
  const message = event.message ?? null;
  const last_seq = Math.max(c.last_seq, event.seq);
  if (event.kind === "message.created" && message) {
    const unread = message.sender_id !== me && !viewing && event.seq > c.last_read_seq ? c.unread + 1 : c.unread;
    return { last_seq, last_message: message, updated_at: event.at, unread };
  }
  const expired = expiredUpTo(event);
  if (expired !== null && c.last_message && c.last_message.seq <= expired) return { last_seq, last_message: null };
  let last = message && c.last_message?.seq === message.seq ? message : c.last_message;
  const target = changedSeq(event);
  if (target !== null && last?.seq === target) last = changedBy(last, event);
  // A system notice is activity: the conversation moves up the list (it counts as no message).
  if (event.kind === "system.notice") return { last_seq, last_message: last, updated_at: event.at };
  return { last_seq, last_message: last };
}

/** The newest number a `messages.expired` event destroyed; null for any other event. */
export function expiredUpTo(event: TimelineEvent): number | null {
  if (event.kind !== "messages.expired") return null;
  const upTo = (event.data as Record<string, unknown> | undefined)?.up_to_seq;
  return typeof upTo === "number" ? upTo : null;
}

/**
 * A loaded (or loading) chat after one of its events: the event's message merged (not a new one
 * into a window in the middle, whose newer messages are not loaded), the sender's typing
 * indicator gone, and an edit or a deletion applied to the copy on screen.
 */
export function chatAfterEvent(chat: Chat, event: TimelineEvent, me: Uuid): Partial<Chat> {
  const message = event.message ?? null;
  const patch: Partial<Chat> = {};
  let messages = chat.messages;
  if (message && event.kind === "message.created" && chat.typing[message.sender_id]) {
    // Whoever was typing has sent.
    const typing = { ...chat.typing };
    delete typing[message.sender_id];
    patch.typing = typing;
  }
  if (message && !(chat.hasNewer && event.kind === "message.created")) {
    messages = mergeMessages(messages, [message]);
    patch.pending = settle(chat.pending, messages, me);
  }
  const notice = noticeOf(event);
  if (notice && !chat.hasNewer) {
    const notices = mergeNotices(chat.notices, [notice]);
    if (notices !== chat.notices) patch.notices = notices;
  }
  const expired = expiredUpTo(event);
  if (expired !== null) messages = messages.filter((m) => m.seq > expired);
  const target = changedSeq(event);
  const old = target !== null && message?.seq !== target ? messages.find((m) => m.seq === target) : undefined;
  if (old) messages = mergeMessages(messages, [changedBy(old, event)]);
  if (messages !== chat.messages || patch.pending) patch.messages = messages;
  return patch;
}

/** My own read receipt (from another device of mine): the read mark and unread count follow. */
export function summaryAfterOwnReceipt(c: Conversation, seq: number): Partial<Conversation> {
  return seq > c.last_read_seq ? { last_read_seq: seq, unread: seq >= c.last_seq ? 0 : c.unread } : {};
}

/** Another member is typing: their indicator shows until `now + TYPING_SHOW_MS`. */
export function typingFrom(chat: Chat, user: Uuid, now: number): Partial<Chat> {
  return { typing: { ...chat.typing, [user]: now + TYPING_SHOW_MS } };
}

/** The typing indicators still showing at `now`; null when none expired. */
export function liveTyping(typing: Record<Uuid, number>, now: number): Record<Uuid, number> | null {
  const live = Object.entries(typing).filter(([, until]) => until > now);
  return live.length === Object.keys(typing).length ? null : Object.fromEntries(live);
}

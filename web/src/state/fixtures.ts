// Messages, pending sends, conversations, members and people for the unit tests of the
// timeline's pure logic and the chat's parts.

import type { Conversation, Member, Message, Person, TimelineEvent } from "../types";
import type { Pending } from "./timeline";
import { emptyChat, type Chat } from "./timelines";

/** A stored message at `seq`, by "other" unless `extra` says otherwise. */
export const msg = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: `id-${seq}`,
  conversation_id: "c",
  seq,
  sender_id: "other",
  client_msg_id: `cm-${seq}`,
  body: `body ${seq}`,
  reply_to: null,
  priority: "normal",
  mentions: [],
  attachments: [],
  created_at: "2026-01-01T00:00:00Z",
  edited_at: null,
  deleted_at: null,
  ...extra,
});

/** A send of this client, still on its way unless `extra` says otherwise. */
export const pending = (id: string, extra: Partial<Pending> = {}): Pending => ({
  client_msg_id: id,
  conversation_id: "c",
  body: "hello",
  reply_to: null,
  priority: "normal",
  created_at: "2026-01-01T00:00:00Z",
  status: "sending",
  ...extra,
});

/** Conversation "c" of the list, read up to its newest message 5 unless `extra` says otherwise. */
export const conv = (extra: Partial<Conversation> = {}): Conversation => ({
  id: "c",
  org_id: "o",
  kind: "group",
  title: "ward",
  last_seq: 5,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  member_count: 3,
  unread: 0,
  my_role: "member",
  last_read_seq: 5,
  last_message: msg(5),
  notify: "all",
  ...extra,
});

/** A member who has read up to `lastRead`. */
export const member = (userId: string, lastRead = 0, role: Member["role"] = "member"): Member => ({
  user_id: userId,
  joined_seq: 1,
  last_read_seq: lastRead,
  role,
});

/** Someone of organization "o" (or of a partner hospital, when `extra` says so). */
export const person = (id: string, extra: Partial<Person> = {}): Person => ({
  id,
  org_id: "o",
  display_name: `name ${id}`,
  kana: "",
  romaji: "",
  profession: "nurse",
  ...extra,
});

/** A loaded chat of conversation "c", with `extra`. */
export const chat = (extra: Partial<Chat> = {}): Chat => ({ ...emptyChat(), loaded: true, ...extra });

/** Event `seq` of conversation "c" by "other" (a new message of theirs for "message.created"). */
export const event = (seq: number, kind: TimelineEvent["kind"], extra: Partial<TimelineEvent> = {}): TimelineEvent => ({
  conversation_id: "c",
  seq,
  kind,
  actor_id: "other",
  at: "2026-01-01T00:05:00Z",
  message: kind === "message.created" ? msg(seq) : null,
  data: {},
  ...extra,
});

// Messages and pending sends for the unit tests of the timeline's pure logic.

import type { Message } from "../types";
import type { Pending } from "./timeline";

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

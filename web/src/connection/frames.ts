// The WebSocket's frames (docs/PROTOCOL.md): what the server sends, and what this client sends.
// The socket is not part of the OpenAPI document, so these types are kept here by hand.

import type { Attachment, TimelineEvent, Uuid } from "../types";
import type { DeliveryFrame } from "../state/delivery";

export type ServerFrame =
  | { type: "welcome"; user_id: Uuid }
  | { type: "synced" }
  | { type: "event"; event: TimelineEvent }
  | { type: "ack"; conversation_id: Uuid; client_msg_id: string; seq: number; duplicate: boolean }
  | { type: "error"; code: string; message: string; client_msg_id?: string }
  | { type: "receipt"; conversation_id: Uuid; user_id: Uuid; seq: number }
  | { type: "typing"; conversation_id: Uuid; user_id: Uuid }
  | { type: "removed"; conversation_id: Uuid }
  | { type: "pong" }
  | { type: "inbox_changed"; study_id: Uuid }
  // issue 19: pushed/delivered marks, an urgent message acknowledged (an "ack" with `user_id`
  // and `acknowledged_at`, unlike the send ack above), an escalation to a covering colleague
  | DeliveryFrame;

/** A message as this client sends it, over the socket or (the same fields) over HTTP. */
export interface OutgoingMessage {
  client_msg_id: string;
  body: string;
  reply_to?: number | null;
  priority?: "normal" | "urgent";
  mentions?: Uuid[];
  attachments?: Attachment[];
}

export type ClientFrame =
  | { type: "hello"; positions: Record<Uuid, number> }
  | { type: "ping"; active: boolean }
  | ({ type: "send"; conversation_id: Uuid } & OutgoingMessage)
  | { type: "typing"; conversation_id: Uuid };

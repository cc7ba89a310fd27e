// The WebSocket's frames (docs/PROTOCOL.md): what the server sends, and what this client sends.
// The socket is not part of the OpenAPI document, so these types are kept here by hand.

import type { Attachment, TimelineEvent, Uuid } from "../types";
import type { DeliveryFrame } from "../state/delivery";
import type { CallInfo, CallMedia } from "../state/call";
import type { ViewShareFrame, ViewState, ViewTarget } from "../state/sharedView";
import type { SignalData } from "../call/negotiation";

export type ServerFrame =
  | { type: "welcome"; user_id: Uuid; conn?: string }
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
  | DeliveryFrame
  // issue 20: calls (state changes, signalling relayed from another socket or the SFU, and the
  // shared view)
  | CallFrame;

export type CallFrame =
  | { type: "call"; call: CallInfo }
  | { type: "call_signal"; call_id: Uuid; from_user: Uuid | null; from_conn: string; data: SignalData | { error: { code: string; message: string } } }
  | ViewShareFrame
  | { type: "view_stop"; call_id: Uuid; from_user: Uuid };

/** What a shown video tile needs (group calls): the SFU picks layers from it. */
export interface LayerWant {
  conn: string;
  mid?: string;
  width: number;
  height: number;
  visible: boolean;
}

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
  | { type: "typing"; conversation_id: Uuid }
  | CallClientFrame;

export type CallClientFrame =
  | { type: "call_start"; conversation_id: Uuid; media: CallMedia }
  | { type: "call_join"; call_id: Uuid; media: CallMedia }
  | { type: "call_decline"; call_id: Uuid }
  | { type: "call_leave"; call_id: Uuid }
  | { type: "call_resume"; call_id: Uuid }
  | { type: "call_signal"; call_id: Uuid; to_conn: string; data: SignalData }
  | { type: "call_media"; call_id: Uuid; audio: boolean; video: boolean }
  | { type: "call_layers"; call_id: Uuid; wants: LayerWant[] }
  | { type: "view_share"; call_id: Uuid; target: ViewTarget; state: ViewState }
  | { type: "view_stop"; call_id: Uuid };

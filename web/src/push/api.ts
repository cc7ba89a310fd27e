// The push and delivery routes of issue 19 (docs: CONTRACT of the server's push and urgent
// parts). Typed by hand until the OpenAPI document carries them.

import { request } from "../api";
import type { Uuid } from "../types";
import type { PersonState } from "../state/delivery";

export interface PushDevice {
  id: Uuid;
  device_label: string | null;
  push_service: string;
  created_at: string;
  last_pushed_at: string | null;
  failing_since: string | null;
}

export interface NotificationPrefs {
  dnd_start: string | null;
  dnd_end: string | null;
  utc_offset_minutes: number;
  covering_user_id: Uuid | null;
}

export interface DeliveryReceipts {
  read_by: number;
  of: number;
  delivered_by?: number;
  acknowledged_by?: number;
  urgent?: boolean;
  readers: { user_id: Uuid; read: boolean; state?: PersonState; acknowledged_at?: string | null; escalated_to?: Uuid | null }[];
}

const enc = encodeURIComponent;

export const pushApi = {
  config: () => request<{ vapid_public_key: string }>("GET", "/api/v1/push/config"),
  subscribe: (subscription: PushSubscriptionJSON, device_label: string) =>
    request<{ id: Uuid }>("POST", "/api/v1/push/subscriptions", { ...subscription, device_label }),
  devices: () => request<PushDevice[]>("GET", "/api/v1/push/subscriptions"),
  removeDevice: (id: Uuid) => request<void>("DELETE", `/api/v1/push/subscriptions/${enc(id)}`),
  prefs: () => request<NotificationPrefs>("GET", "/api/v1/me/notifications"),
  savePrefs: (prefs: NotificationPrefs) => request<NotificationPrefs>("PUT", "/api/v1/me/notifications", prefs),
  receipts: (conversation: Uuid, seq: number) =>
    request<DeliveryReceipts>("GET", `/api/v1/conversations/${enc(conversation)}/messages/${seq}/receipts`),
  ack: (conversation: Uuid, seq: number) =>
    request<{ seq: number; acknowledged_at: string }>("POST", `/api/v1/conversations/${enc(conversation)}/messages/${seq}/ack`),
};

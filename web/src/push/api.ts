// The push and delivery routes of issue 19. The delivery states and acknowledgements are typed
// from the OpenAPI document; the push routes by hand until the push part is in it.

import { request } from "../api";
import type { components } from "../api/schema";
import type { Uuid } from "../types";

type Schemas = components["schemas"];

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

export type DeliveryReceipts = Schemas["Receipts"];

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
    request<Schemas["Acknowledged"]>("POST", `/api/v1/conversations/${enc(conversation)}/messages/${seq}/ack`),
};

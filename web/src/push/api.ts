// The push and delivery routes of issue 19, typed from the OpenAPI document.

import { request } from "../api";
import type { components } from "../api/schema";
import type { Uuid } from "../types";

type Schemas = components["schemas"];

export type PushDevice = Schemas["SubscriptionView"];
export type NotificationPrefs = Schemas["MyNotifications"];

export type DeliveryReceipts = Schemas["Receipts"];

const enc = encodeURIComponent;

export const pushApi = {
  config: () => request<Schemas["PushConfig"]>("GET", "/api/v1/push/config"),
  subscribe: (subscription: PushSubscriptionJSON, device_label: string) =>
    request<Schemas["SubscriptionId"]>("POST", "/api/v1/push/subscriptions", { ...subscription, device_label }),
  devices: () => request<PushDevice[]>("GET", "/api/v1/push/subscriptions"),
  removeDevice: (id: Uuid) => request<void>("DELETE", `/api/v1/push/subscriptions/${enc(id)}`),
  prefs: () => request<NotificationPrefs>("GET", "/api/v1/me/notifications"),
  savePrefs: (prefs: NotificationPrefs) => request<NotificationPrefs>("PUT", "/api/v1/me/notifications", prefs),
  receipts: (conversation: Uuid, seq: number) =>
    request<DeliveryReceipts>("GET", `/api/v1/conversations/${enc(conversation)}/messages/${seq}/receipts`),
  ack: (conversation: Uuid, seq: number) =>
    request<Schemas["Acknowledged"]>("POST", `/api/v1/conversations/${enc(conversation)}/messages/${seq}/ack`),
};

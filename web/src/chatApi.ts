// REST calls of the chat screens beyond sending: history around a message, message search,
// and managing a group (title, members, retention, my notification level).

import { request } from "./api";
import type { components } from "./api/schema";
import type { Conversation, Member, Message, NotifyLevel, TimelineEvent, Uuid } from "./types";

export const chatApi = {
  /** The oldest `limit` messages after `afterSeq`. */
  historyAfter: (id: Uuid, afterSeq: number, limit = 50) =>
    request<Message[]>("GET", `/api/v1/conversations/${id}/messages?limit=${limit}&after_seq=${afterSeq}`),
  /** The oldest `limit` timeline events after `afterSeq` (the system notices are read from them). */
  events: (id: Uuid, afterSeq: number, limit: number) =>
    request<TimelineEvent[]>("GET", `/api/v1/conversations/${id}/events?limit=${limit}&after_seq=${afterSeq}`),
  /** Messages matching `q` in all my conversations, or in one; newest first. */
  search: (q: string, conversationId?: Uuid, limit = 50) => {
    const params = new URLSearchParams({ q, limit: String(limit) });
    if (conversationId) params.set("conversation_id", conversationId);
    return request<Message[]>("GET", `/api/v1/search/messages?${params}`);
  },
  rename: (id: Uuid, title: string) => request<Conversation>("PATCH", `/api/v1/conversations/${id}`, { title }),
  setRetention: (id: Uuid, retention_days: number) =>
    request<Conversation>("PATCH", `/api/v1/conversations/${id}`, { retention_days }),
  addMember: (id: Uuid, user_id: Uuid) => request<Member[]>("POST", `/api/v1/conversations/${id}/members`, { user_id }),
  removeMember: (id: Uuid, userId: Uuid) => request<void>("DELETE", `/api/v1/conversations/${id}/members/${userId}`),
  setRole: (id: Uuid, userId: Uuid, role: "admin" | "member") =>
    request<Member[]>("PUT", `/api/v1/conversations/${id}/members/${userId}`, { role }),
  setNotify: (id: Uuid, level: NotifyLevel) =>
    request<components["schemas"]["NotifySetting"]>("PUT", `/api/v1/conversations/${id}/notifications`, { level }),
};

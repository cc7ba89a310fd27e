// What the service worker does with a push, as pure functions: the notification it shows (one
// for every push, as browsers require), the receipt it reports, and where a tap opens the app.
// Imported only by the service worker (src/sw/sw.ts) and its tests, so the worker is one file.

/** The push payload (docs/NOTIFICATIONS.md): no message content, ever. */
export interface PushPayload {
  kind: "message" | "mention" | "urgent" | "realert" | "escalation" | "call";
  conversation_id: string;
  seq: number;
  urgent: boolean;
  text: string;
}

/** The payload of a push, or null when it is not one of ours (still shown, generically). */
export function parsePayload(raw: unknown): PushPayload | null {
  if (!raw || typeof raw !== "object") return null;
  const p = raw as Record<string, unknown>;
  if (typeof p.conversation_id !== "string" || typeof p.seq !== "number") return null;
  return {
    kind: (typeof p.kind === "string" ? p.kind : "message") as PushPayload["kind"],
    conversation_id: p.conversation_id,
    seq: p.seq,
    urgent: p.urgent === true,
    text: typeof p.text === "string" && p.text ? p.text : "新着メッセージ",
  };
}

export interface Notice {
  title: string;
  options: {
    body: string;
    tag: string;
    renotify: boolean;
    requireInteraction: boolean;
    icon: string;
    badge: string;
    lang: string;
    data: { conversation_id: string | null; seq: number | null };
  };
}

/** The notification of a push: one per conversation (its tag), urgent ones alert again and
 * stay until touched. A call rings under its own tag (each repeat alerts again, and a tap opens
 * the conversation, where the app shows the incoming call from the socket's `call` frame). */
export function noticeFor(p: PushPayload | null): Notice {
  const call = p?.kind === "call";
  const urgent = !!p && (p.urgent || call || p.kind === "urgent" || p.kind === "realert" || p.kind === "escalation");
  return {
    title: call ? "renkei 着信" : urgent ? "【至急】renkei" : "renkei",
    options: {
      body: p?.text ?? "新着メッセージ",
      tag: !p ? "renkei" : call ? `call:${p.conversation_id}` : `c:${p.conversation_id}`,
      renotify: urgent,
      requireInteraction: urgent,
      icon: "/icon-192.png",
      badge: "/icon-192.png",
      lang: "ja",
      data: { conversation_id: p?.conversation_id ?? null, seq: p?.seq ?? null },
    },
  };
}

/** The body of `POST /api/v1/push/receipts`, or null when there is nothing to report. */
export function receiptFor(p: PushPayload | null): { conversation_id: string; seq: number } | null {
  return p && p.seq > 0 ? { conversation_id: p.conversation_id, seq: p.seq } : null;
}

/** The app's address that opens a conversation (the app reads `?c=` at start). */
export function openUrl(conversationId: string | null): string {
  return conversationId ? `/?c=${encodeURIComponent(conversationId)}` : "/";
}

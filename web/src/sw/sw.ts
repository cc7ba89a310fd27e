// The service worker (served as /sw.js, scope /): a notification for every push, the delivery
// receipt inside the push event, and a tap that opens the conversation (through the lock screen
// when a passcode is set: the app decides). It caches nothing and stores no API response.

import { noticeFor, openUrl, parsePayload, receiptFor, type PushPayload } from "./notice";

// The worker's own global scope, typed by hand (the DOM lib describes a window).
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface PushEvent extends ExtendableEvent {
  data: { json(): unknown; text(): string } | null;
}
interface NotificationEvent extends ExtendableEvent {
  notification: Notification;
}
interface WindowClient {
  url: string;
  focus(): Promise<WindowClient>;
  postMessage(message: unknown): void;
}
interface Scope {
  registration: ServiceWorkerRegistration;
  clients: {
    matchAll(o: { type: "window"; includeUncontrolled: boolean }): Promise<WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: string, listener: (e: never) => void): void;
  cookieStore?: { get(name: string): Promise<{ value: string } | null> };
  location: Location;
}
const sw = self as unknown as Scope;

sw.addEventListener("install", () => void sw.skipWaiting());
sw.addEventListener("activate", (e: ExtendableEvent) => e.waitUntil(sw.clients.claim()));

sw.addEventListener("push", (e: PushEvent) => {
  let raw: unknown = null;
  try {
    raw = e.data?.json() ?? null;
  } catch {
    /* not JSON: shown generically */
  }
  const payload = parsePayload(raw);
  const notice = noticeFor(payload);
  e.waitUntil(Promise.all([sw.registration.showNotification(notice.title, notice.options as NotificationOptions), report(payload)]));
});

/** Tells the server the push reached this device. The session cookie goes along; the CSRF token
 * is read with the Cookie Store API where the browser has it in workers. Without it (or when the
 * session is locked or gone) nothing is reported here: the socket marks the message delivered
 * when the app next connects. */
async function report(payload: PushPayload | null): Promise<void> {
  const body = receiptFor(payload);
  if (!body) return;
  try {
    const csrf = (await sw.cookieStore?.get("renkei_csrf"))?.value;
    if (!csrf) return;
    await fetch("/api/v1/push/receipts", {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "content-type": "application/json", "x-csrf-token": decodeURIComponent(csrf) },
      body: JSON.stringify(body),
    });
  } catch {
    /* offline or signed out: the socket reports it later */
  }
}

sw.addEventListener("notificationclick", (e: NotificationEvent) => {
  e.notification.close();
  const id = (e.notification.data as { conversation_id?: string | null } | null)?.conversation_id ?? null;
  e.waitUntil(openApp(id));
});

/** Brings the app forward at the conversation: an open window is told (it asks for the passcode
 * first when locked), otherwise a new one opens at the conversation's address. */
async function openApp(id: string | null): Promise<void> {
  const windows = await sw.clients.matchAll({ type: "window", includeUncontrolled: true });
  const mine = windows.find((w) => new URL(w.url).origin === sw.location.origin);
  if (mine) {
    mine.postMessage({ type: "renkei.open", conversation_id: id });
    await mine.focus().catch(() => undefined);
    return;
  }
  await sw.clients.openWindow(openUrl(id));
}

// Push on this device: the service worker's registration, the permission asked after a tap
// (never on load), the subscription made or re-sent to the server on every start (the browser's
// `pushsubscriptionchange` is unreliable), the app badge, and the worker's "open this
// conversation" messages.

import { useSyncExternalStore } from "react";
import { ApiError } from "../api";
import { pushApi } from "./api";
import { base64UrlBytes, deviceLabel, platformOf, pushProblems, sameKey, type DeviceFacts, type PushProblem } from "../state/push";

export interface PushStatus {
  facts: DeviceFacts;
  problems: PushProblem[];
  /** the last registration failed: at the browser's push service, or at our server */
  error: "service" | "server" | null;
  busy: boolean;
  /** the server's id of this device's subscription (to mark it in the device list) */
  id: string | null;
}

const supported = () =>
  typeof navigator !== "undefined" && "serviceWorker" in navigator && typeof window !== "undefined" && "PushManager" in window && "Notification" in window;

function currentFacts(subscribed: boolean): DeviceFacts {
  const ua = typeof navigator !== "undefined" ? navigator.userAgent : "";
  const platform = platformOf(ua, typeof navigator !== "undefined" ? navigator.maxTouchPoints ?? 0 : 0);
  const standalone =
    typeof window !== "undefined" &&
    (window.matchMedia?.("(display-mode: standalone)").matches || (navigator as { standalone?: boolean }).standalone === true);
  return {
    supported: supported(),
    permission: typeof Notification !== "undefined" ? Notification.permission : "unsupported",
    standalone: !!standalone,
    subscribed,
    ...platform,
  };
}

class Device {
  private subscriptionId: string | null = null;
  private status: PushStatus = this.make(false, null, false);
  private listeners = new Set<() => void>();
  private registration: Promise<ServiceWorkerRegistration | null> | null = null;

  private make(subscribed: boolean, error: PushStatus["error"], busy: boolean): PushStatus {
    const facts = currentFacts(subscribed);
    return { facts, problems: pushProblems(facts), error, busy, id: subscribed ? this.subscriptionId : null };
  }
  private set(subscribed: boolean, error: PushStatus["error"], busy = false) {
    this.status = this.make(subscribed, error, busy);
    this.listeners.forEach((l) => l());
  }

  get = () => this.status;
  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  };

  /** Registers the service worker at the app's root (asks nothing of the user). */
  register(): Promise<ServiceWorkerRegistration | null> {
    if (!this.registration) {
      this.registration =
        typeof navigator !== "undefined" && "serviceWorker" in navigator
          ? navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => null)
          : Promise.resolve(null);
    }
    return this.registration;
  }

  /** At every start once signed in: with permission, subscribe (or reuse) and send it. */
  async sync(): Promise<void> {
    if (!supported() || Notification.permission !== "granted") return this.set(false, null);
    this.set(this.status.facts.subscribed, null, true);
    try {
      if (!(await this.register())) throw new Error("service worker not registered");
      const registration = await navigator.serviceWorker.ready;
      const key = base64UrlBytes((await pushApi.config()).vapid_public_key);
      let subscription = await registration.pushManager.getSubscription();
      if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
        await subscription.unsubscribe();
        subscription = null;
      }
      subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      const { id } = await pushApi.subscribe(subscription.toJSON(), deviceLabel(navigator.userAgent, navigator.maxTouchPoints ?? 0));
      this.subscriptionId = id;
      this.set(true, null);
    } catch (e) {
      this.set(false, e instanceof ApiError ? "server" : "service");
    }
  }

  /** After the user's tap: ask for permission, then subscribe. */
  async enable(): Promise<void> {
    if (!supported()) return this.set(false, null);
    if (Notification.permission === "default") await Notification.requestPermission();
    await this.sync();
  }

  /** The app badge (where the platform has one): the unread count. */
  badge(unread: number) {
    const n = navigator as Navigator & { setAppBadge?: (n: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
    if (!n.setAppBadge) return;
    void (unread > 0 ? n.setAppBadge(unread) : n.clearAppBadge?.())?.catch(() => undefined);
  }

  /** Calls `open` with the conversation of each notification tap the worker passes on. */
  onOpen(open: (id: string | null) => void): () => void {
    if (typeof navigator === "undefined" || !("serviceWorker" in navigator)) return () => undefined;
    const listener = (e: MessageEvent) => {
      const data = e.data as { type?: string; conversation_id?: string | null } | null;
      if (data?.type === "renkei.open") open(data.conversation_id ?? null);
    };
    navigator.serviceWorker.addEventListener("message", listener);
    return () => navigator.serviceWorker.removeEventListener("message", listener);
  }

  /** Re-reads what the browser says (after returning from its settings). */
  refresh() {
    this.set(this.status.facts.subscribed, this.status.error, this.status.busy);
  }
}

export const pushDevice = new Device();

export function usePushStatus(): PushStatus {
  return useSyncExternalStore(pushDevice.subscribe, pushDevice.get);
}

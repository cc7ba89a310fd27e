import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The browser's parts that push uses, faked: a service worker registration with a push manager.
const KEY = "BAEC_-8"; // the server's VAPID key (any bytes do here)
const keyBytes = [4, 1, 2, 255, 239];

function fakeBrowser(opts: { permission: NotificationPermission; existingKey?: number[] }) {
  let current = opts.existingKey ? subscription(opts.existingKey) : null;
  function subscription(key: number[]) {
    return {
      options: { applicationServerKey: new Uint8Array(key).buffer },
      unsubscribe: vi.fn(async () => ((current = null), true)),
      toJSON: () => ({ endpoint: "https://fcm.googleapis.com/fcm/send/x", expirationTime: null, keys: { p256dh: "p", auth: "a" } }),
    };
  }
  const pushManager = {
    getSubscription: vi.fn(async () => current),
    subscribe: vi.fn(async (o: { applicationServerKey: Uint8Array }) => (current = subscription([...o.applicationServerKey]))),
  };
  const registration = { pushManager };
  const serviceWorker = { register: vi.fn(async () => registration), ready: Promise.resolve(registration), addEventListener: vi.fn() };
  vi.stubGlobal("navigator", { serviceWorker, userAgent: "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36", maxTouchPoints: 5 });
  vi.stubGlobal("window", { PushManager: class {}, Notification: class {}, matchMedia: () => ({ matches: false }) });
  vi.stubGlobal("Notification", { permission: opts.permission, requestPermission: vi.fn(async () => "granted") });
  vi.stubGlobal("document", { cookie: "renkei_csrf=t" });
  const posted: { url: string; body: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      if (url === "/api/v1/push/config") return new Response(JSON.stringify({ vapid_public_key: KEY }), { status: 200 });
      posted.push({ url, body: JSON.parse(String(init.body)) });
      return new Response(JSON.stringify({ id: "sub-1" }), { status: 201 });
    }),
  );
  return { pushManager, serviceWorker, posted };
}

async function device() {
  vi.resetModules();
  return (await import("./device")).pushDevice;
}

describe("push on this device", () => {
  beforeEach(() => vi.unstubAllGlobals());
  afterEach(() => vi.unstubAllGlobals());

  it("without permission, asks nothing and subscribes nothing", async () => {
    const b = fakeBrowser({ permission: "default" });
    const d = await device();
    await d.sync();
    expect(b.pushManager.subscribe).not.toHaveBeenCalled();
    expect(d.get().problems).toEqual(["notAsked"]);
  });

  it("with permission, subscribes with the server's key and sends it (every start)", async () => {
    const b = fakeBrowser({ permission: "granted" });
    const d = await device();
    await d.sync();
    expect(b.serviceWorker.register).toHaveBeenCalledWith("/sw.js", { scope: "/" });
    const call = b.pushManager.subscribe.mock.calls[0][0] as { userVisibleOnly: boolean; applicationServerKey: Uint8Array };
    expect(call.userVisibleOnly).toBe(true);
    expect([...call.applicationServerKey]).toEqual(keyBytes);
    expect(b.posted[0].url).toBe("/api/v1/push/subscriptions");
    expect(b.posted[0].body).toMatchObject({ endpoint: "https://fcm.googleapis.com/fcm/send/x", keys: { p256dh: "p", auth: "a" }, device_label: "Android · Chrome" });
    expect(d.get()).toMatchObject({ problems: [], id: "sub-1", error: null });
    // the next start sends the same subscription again, without subscribing anew
    await d.sync();
    expect(b.pushManager.subscribe).toHaveBeenCalledTimes(1);
    expect(b.posted).toHaveLength(2);
  });

  it("a subscription made for another server key is replaced", async () => {
    const b = fakeBrowser({ permission: "granted", existingKey: [4, 9, 9] });
    const d = await device();
    await d.sync();
    expect(b.pushManager.subscribe).toHaveBeenCalledTimes(1);
  });

  it("a push service that does not answer is said as such", async () => {
    const b = fakeBrowser({ permission: "granted" });
    b.pushManager.subscribe.mockRejectedValueOnce(new DOMException("Registration failed - push service not available", "AbortError"));
    const d = await device();
    await d.sync();
    expect(d.get()).toMatchObject({ problems: ["notSubscribed"], error: "service" });
  });
});

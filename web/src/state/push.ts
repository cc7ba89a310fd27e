// What the app knows about push on this device, as pure functions: the VAPID key's bytes, which
// of the three failures (permission denied, iOS not installed, no subscription) stands in the
// way, the conversation a notification's tap asked for, and do-not-disturb hours.

/** A base64url string (the server's VAPID public key) as bytes for `pushManager.subscribe`. */
export function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Whether two keys are the same bytes (a subscription made for another server key is redone). */
export function sameKey(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

/** What this device and browser offer. */
export interface DeviceFacts {
  /** service workers, PushManager and Notification exist */
  supported: boolean;
  permission: NotificationPermission | "unsupported";
  /** an iPhone or iPad (iPadOS says it is a Mac with touch) */
  ios: boolean;
  /** opened from the home screen (display-mode standalone) */
  standalone: boolean;
  /** the iOS version, when known */
  iosVersion: number | null;
  android: boolean;
  /** this device has a push subscription the server knows */
  subscribed: boolean;
}

export type PushProblem = "unsupported" | "iosOld" | "iosNotInstalled" | "denied" | "notAsked" | "notSubscribed";

/** Why push does not reach this device, most fundamental first; empty when it does. */
export function pushProblems(f: DeviceFacts): PushProblem[] {
  if (f.ios && f.iosVersion !== null && f.iosVersion < 16.4) return ["iosOld"];
  // iOS offers push only to an app added to the home screen (16.4 or later).
  if (f.ios && !f.standalone) return ["iosNotInstalled"];
  if (!f.supported) return ["unsupported"];
  if (f.permission === "denied") return ["denied"];
  if (f.permission === "default") return ["notAsked"];
  return f.subscribed ? [] : ["notSubscribed"];
}

/** The facts of a user agent (pure, for tests; `deviceFacts` reads the real ones). */
export function platformOf(userAgent: string, maxTouchPoints: number): { ios: boolean; android: boolean; iosVersion: number | null } {
  const iPhone = /iPhone|iPad|iPod/.test(userAgent);
  const iPadOs = /Macintosh/.test(userAgent) && maxTouchPoints > 1;
  const ios = iPhone || iPadOs;
  const m = userAgent.match(/OS (\d+)[_.](\d+)/);
  const version = /Version\/(\d+)\.(\d+)/.exec(userAgent);
  const iosVersion = !ios ? null : m && iPhone ? Number(`${m[1]}.${m[2]}`) : version ? Number(`${version[1]}.${version[2]}`) : null;
  return { ios, android: /Android/.test(userAgent), iosVersion };
}

/** The conversation a notification's tap asked for (`?c=<id>`), if any. */
export function linkedConversation(search: string): string | null {
  const id = new URLSearchParams(search).get("c");
  return id && /^[0-9a-f-]{36}$/i.test(id) ? id.toLowerCase() : null;
}

/** Whether "HH:MM" is a time of day. */
export function isTimeOfDay(text: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(text);
}

/** Whether a do-not-disturb setting can be saved: both ends or neither, and not equal. */
export function dndValid(start: string, end: string): boolean {
  if (!start && !end) return true;
  return isTimeOfDay(start) && isTimeOfDay(end) && start !== end;
}

/** The device's UTC offset in minutes (east positive), as the server counts do-not-disturb. */
export function utcOffsetMinutes(date: Date): number {
  return -date.getTimezoneOffset();
}

/** A short label of this browser for the device list ("iPhone", "Android · Chrome"). */
export function deviceLabel(userAgent: string, maxTouchPoints: number): string {
  const { ios, android } = platformOf(userAgent, maxTouchPoints);
  const device = ios ? (/iPad/.test(userAgent) || /Macintosh/.test(userAgent) ? "iPad" : "iPhone") : android ? "Android" : /Windows/.test(userAgent) ? "Windows" : /Mac/.test(userAgent) ? "Mac" : /Linux/.test(userAgent) ? "Linux" : "";
  const browser = /Edg\//.test(userAgent) ? "Edge" : /Firefox\//.test(userAgent) ? "Firefox" : /Chrom(e|ium)\//.test(userAgent) ? "Chrome" : /Safari\//.test(userAgent) ? "Safari" : "";
  return [device, browser].filter(Boolean).join(" · ") || "browser";
}

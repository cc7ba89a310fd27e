import { describe, expect, it } from "vitest";
import { base64UrlBytes, deviceLabel, dndValid, linkedConversation, platformOf, pushProblems, sameKey, type DeviceFacts } from "./push";

const IPHONE_17 = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const IPHONE_15 = "Mozilla/5.0 (iPhone; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Mobile/15E148 Safari/604.1";
const IPAD = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
const ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";

const facts = (f: Partial<DeviceFacts>): DeviceFacts => ({
  supported: true,
  permission: "granted",
  ios: false,
  standalone: false,
  iosVersion: null,
  android: false,
  subscribed: true,
  ...f,
});

describe("why push does not reach this device", () => {
  it("is nothing when permitted and subscribed", () => {
    expect(pushProblems(facts({}))).toEqual([]);
  });
  it("names the three failures", () => {
    expect(pushProblems(facts({ permission: "denied" }))).toEqual(["denied"]);
    expect(pushProblems(facts({ ios: true, iosVersion: 17.5, standalone: false, supported: false }))).toEqual(["iosNotInstalled"]);
    expect(pushProblems(facts({ subscribed: false }))).toEqual(["notSubscribed"]);
  });
  it("an installed iPhone on 16.4 or later is like any browser; an older one cannot", () => {
    expect(pushProblems(facts({ ios: true, iosVersion: 16.4, standalone: true }))).toEqual([]);
    expect(pushProblems(facts({ ios: true, iosVersion: 15.7, standalone: true }))).toEqual(["iosOld"]);
    expect(pushProblems(facts({ permission: "default" }))).toEqual(["notAsked"]);
    expect(pushProblems(facts({ supported: false, permission: "unsupported" }))).toEqual(["unsupported"]);
  });
});

describe("the platform", () => {
  it("recognizes iPhone, iPad (which says Macintosh) and Android", () => {
    expect(platformOf(IPHONE_17, 5)).toEqual({ ios: true, android: false, iosVersion: 17.5 });
    expect(platformOf(IPHONE_15, 5).iosVersion).toBe(15.7);
    expect(platformOf(IPAD, 5)).toEqual({ ios: true, android: false, iosVersion: 17.4 });
    expect(platformOf(IPAD, 0).ios).toBe(false);
    expect(platformOf(ANDROID, 5)).toEqual({ ios: false, android: true, iosVersion: null });
  });
  it("labels a device without anything identifying", () => {
    expect(deviceLabel(IPHONE_17, 5)).toBe("iPhone · Safari");
    expect(deviceLabel(ANDROID, 5)).toBe("Android · Chrome");
  });
});

describe("keys, links and hours", () => {
  it("decodes the base64url VAPID key", () => {
    const bytes = base64UrlBytes("BAEC_-8");
    expect([...bytes]).toEqual([4, 1, 2, 255, 239]);
    expect(sameKey(bytes.buffer, bytes)).toBe(true);
    expect(sameKey(new Uint8Array([4, 1]).buffer, bytes)).toBe(false);
    expect(sameKey(null, bytes)).toBe(false);
  });
  it("reads the conversation of a notification's tap", () => {
    expect(linkedConversation("?c=0195D7A0-0000-7000-8000-000000000000")).toBe("0195d7a0-0000-7000-8000-000000000000");
    expect(linkedConversation("?c=../admin")).toBeNull();
    expect(linkedConversation("")).toBeNull();
  });
  it("accepts do-not-disturb hours with both ends, across midnight", () => {
    expect(dndValid("", "")).toBe(true);
    expect(dndValid("22:00", "06:30")).toBe(true);
    expect(dndValid("22:00", "")).toBe(false);
    expect(dndValid("25:00", "06:00")).toBe(false);
    expect(dndValid("07:00", "07:00")).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { DEFER_MS, deferPasscode, forgetPasscodeDeferrals, passcodeDeferred } from "./passcodeLater";

function memory() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
    key: (i: number) => [...m.keys()][i] ?? null,
    get length() {
      return m.size;
    },
    m,
  };
}

describe("passcode later", () => {
  it("holds for seven days, per user", () => {
    const store = memory();
    const now = 1_000_000;
    expect(passcodeDeferred("a", now, store)).toBe(false);
    deferPasscode("a", now, store);
    expect(passcodeDeferred("a", now + 1000, store)).toBe(true);
    expect(passcodeDeferred("b", now + 1000, store)).toBe(false);
    expect(passcodeDeferred("a", now + DEFER_MS - 1, store)).toBe(true);
    expect(passcodeDeferred("a", now + DEFER_MS + 1, store)).toBe(false);
    expect(store.m.size).toBe(0);
  });
  it("ignores a value set far in the future by hand", () => {
    const store = memory();
    store.setItem("renkei.passcodeLater.a", String(Number.MAX_SAFE_INTEGER));
    expect(passcodeDeferred("a", 0, store)).toBe(false);
  });
  it("ends at the next sign-in, leaving other settings alone", () => {
    const store = memory();
    store.setItem("renkei.lang", "ja");
    deferPasscode("a", 0, store);
    deferPasscode("b", 0, store);
    forgetPasscodeDeferrals(store);
    expect(passcodeDeferred("a", 1, store)).toBe(false);
    expect([...store.m.keys()]).toEqual(["renkei.lang"]);
  });
});

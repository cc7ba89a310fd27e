import { describe, expect, it } from "vitest";
import { DEFER_MS, deferPasscode, passcodeDeferred } from "./passcodeLater";

function memory() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m };
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
});

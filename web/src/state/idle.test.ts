import { describe, expect, it } from "vitest";
import { backoff, IdleTimer } from "./idle";

describe("IdleTimer", () => {
  it("expires after the organization's minutes without activity", () => {
    let now = 1_000_000;
    const timer = new IdleTimer(10, () => now);
    now += 9 * 60_000;
    expect(timer.expired()).toBe(false);
    now += 60_000;
    expect(timer.expired()).toBe(true);
  });

  it("activity postpones the lock", () => {
    let now = 0;
    const timer = new IdleTimer(1, () => now);
    now = 50_000;
    timer.activity();
    now = 100_000;
    expect(timer.expired()).toBe(false);
    expect(timer.remaining()).toBe(10_000);
    now = 110_000;
    expect(timer.expired()).toBe(true);
  });

  it("follows a policy change and reports activity for pings", () => {
    let now = 0;
    const timer = new IdleTimer(10, () => now);
    now = 2 * 60_000;
    expect(timer.expired()).toBe(false);
    timer.setMinutes(1);
    expect(timer.expired()).toBe(true);
    expect(timer.activeSince(60_000)).toBe(false);
    timer.activity();
    expect(timer.activeSince(60_000)).toBe(true);
  });
});

describe("backoff", () => {
  it("doubles up to 15 s with jitter", () => {
    expect(backoff(0, () => 0)).toBe(500);
    expect(backoff(1, () => 0)).toBe(1000);
    expect(backoff(10, () => 0)).toBe(15_000);
    expect(backoff(10, () => 1)).toBe(10_500);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { coalesce, inboxChanged, onInboxChanged } from "./inboxLive";

describe("live inbox", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("reaches listeners until they stop listening", () => {
    const heard: string[] = [];
    const stop = onInboxChanged((id) => heard.push(id));
    inboxChanged("a");
    stop();
    inboxChanged("b");
    expect(heard).toEqual(["a"]);
  });

  it("turns a burst into one refresh", () => {
    const run = vi.fn();
    const call = coalesce(run, 200, 2000);
    for (let i = 0; i < 20; i++) {
      call();
      vi.advanceTimersByTime(50);
    }
    expect(run).toHaveBeenCalledTimes(0);
    vi.advanceTimersByTime(200);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it("still refreshes during a long stream", () => {
    const run = vi.fn();
    const call = coalesce(run, 500, 2000);
    for (let i = 0; i < 60; i++) {
      call();
      vi.advanceTimersByTime(100);
    }
    expect(run.mock.calls.length).toBeGreaterThanOrEqual(2);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AckTimers } from "./acks";

describe("acks", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("fail a send whose ack does not come in time", () => {
    const acks = new AckTimers(1_000);
    const failed = vi.fn();
    acks.wait("a", failed);
    vi.advanceTimersByTime(999);
    expect(failed).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(failed).toHaveBeenCalledOnce();
    expect(acks.waiting("a")).toBe(false);
  });

  it("stop waiting once the ack comes, or everything is cleared", () => {
    const acks = new AckTimers(1_000);
    const failed = vi.fn();
    acks.wait("a", failed);
    acks.wait("b", failed);
    acks.settled("a");
    acks.clear();
    vi.advanceTimersByTime(5_000);
    expect(failed).not.toHaveBeenCalled();
  });

  it("wait anew when a send goes again", () => {
    const acks = new AckTimers(1_000);
    const failed = vi.fn();
    acks.wait("a", failed);
    vi.advanceTimersByTime(800);
    acks.wait("a", failed);
    vi.advanceTimersByTime(800);
    expect(failed).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200);
    expect(failed).toHaveBeenCalledOnce();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { afterViewShare, afterViewStop, changedFields, follows, takeOver, Throttle, type ViewShareFrame } from "./sharedView";

const frame = (from: string, extra: Partial<ViewShareFrame> = {}): ViewShareFrame => ({
  type: "view_share",
  call_id: "call",
  from_user: from,
  target: { kind: "study", id: "s1" },
  state: { series_uid: "1.2.3", slice: 40, window_center: 40, window_width: 400, pointer: { x: 0.5, y: 0.25 } },
  allowed: true,
  ...extra,
});

describe("shared view", () => {
  it("the sender leads; everyone else's viewer of that image follows", () => {
    const view = afterViewShare(frame("u-a"), "u-b");
    expect(view.leading).toBe(false);
    expect(follows(view, { kind: "study", id: "s1" })).toBe(true);
    expect(follows(view, { kind: "study", id: "other" })).toBe(false);
    expect(follows(afterViewShare(frame("u-b"), "u-b"), { kind: "study", id: "s1" })).toBe(false);
  });

  it("someone who may not open the image gets neither its id nor its state", () => {
    const view = afterViewShare(frame("u-a", { allowed: false }), "u-c");
    expect(view.allowed).toBe(false);
    expect(view.target).toEqual({ kind: "study" });
    expect(view.state).toEqual({});
    expect(follows(view, { kind: "study", id: "s1" })).toBe(false);
  });

  it("anyone takes over from where the image is; a later frame from another hands it on", () => {
    const following = afterViewShare(frame("u-a"), "u-b");
    const mine = takeOver(following, "call", "u-b", { kind: "study", id: "s1" }, { slice: 41 });
    expect(mine.leading).toBe(true);
    expect(mine.state.slice).toBe(41);
    expect(mine.state.window_width).toBe(400);
    // The former leader's pointer does not stay on the others' screens.
    expect(mine.state.pointer).toBeNull();
    const again = afterViewShare(frame("u-c"), "u-b");
    expect(again.leading).toBe(false);
    expect(again.leader).toBe("u-c");
  });

  it("ends only when its leader stops it", () => {
    const view = afterViewShare(frame("u-a"), "u-b");
    expect(afterViewStop(view, { call_id: "call", from_user: "u-c" })).toBe(view);
    expect(afterViewStop(view, { call_id: "call", from_user: "u-a" })).toBeNull();
  });

  it("names what changed", () => {
    expect(changedFields({ slice: 1, pointer: { x: 0, y: 0 } }, { slice: 2, pointer: { x: 0, y: 0 }, zoom: 2 })).toEqual(["slice", "zoom"]);
  });
});

describe("the throttle", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends at most 20 a second and always the last state", () => {
    const sent: number[] = [];
    const throttle = new Throttle<number>((v) => sent.push(v), 50, () => Date.now());
    // 100 updates over one second (a drag at 100 Hz).
    for (let i = 1; i <= 100; i++) {
      throttle.push(i);
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(100);
    expect(sent.length).toBeLessThanOrEqual(21);
    expect(sent.length).toBeGreaterThanOrEqual(19);
    expect(sent[0]).toBe(1);
    expect(sent.at(-1)).toBe(100);
    // Never an older state after a newer one.
    expect(sent.every((v, i) => i === 0 || v > sent[i - 1])).toBe(true);
  });

  it("a lone change goes at once; cancel drops the pending one", () => {
    const sent: number[] = [];
    const throttle = new Throttle<number>((v) => sent.push(v), 50, () => Date.now());
    throttle.push(1);
    expect(sent).toEqual([1]);
    throttle.push(2);
    throttle.cancel();
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([1]);
    throttle.push(3);
    expect(sent).toEqual([1, 3]);
  });
});

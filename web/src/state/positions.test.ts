import { describe, expect, it } from "vitest";
import { Positions } from "./positions";

describe("Positions", () => {
  it("only moves forward and snapshots for the hello frame", () => {
    const p = new Positions();
    p.observe("a", 4);
    p.observe("a", 2);
    p.observe("b", 1);
    p.observe("a", 5);
    expect(p.snapshot()).toEqual({ a: 5, b: 1 });
  });

  it("knows when an event follows without a gap", () => {
    const p = new Positions();
    p.observe("a", 3);
    expect(p.isNextOrKnown("a", 4)).toBe(true);
    expect(p.isNextOrKnown("a", 2)).toBe(true);
    expect(p.isNextOrKnown("a", 6)).toBe(false);
    expect(p.isNextOrKnown("new", 1)).toBe(true);
  });

  it("forgets a conversation and clears on lock", () => {
    const p = new Positions();
    p.observe("a", 3);
    p.observe("b", 3);
    p.forget("a");
    expect(p.snapshot()).toEqual({ b: 3 });
    p.clear();
    expect(p.snapshot()).toEqual({});
  });
});

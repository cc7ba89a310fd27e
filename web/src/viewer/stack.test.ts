import { describe, expect, it } from "vitest";
import { isCine, isWaveform, prefetchOrder, stackOf, startIndex } from "./stack";
import type { Instance } from "../types";

const inst = (sop: string, n: number | null, frames = 1): Instance => ({
  series_uid: "s",
  sop_uid: sop,
  sop_class: "1.2.840.10008.5.1.4.1.1.2",
  instance_number: n,
  frames,
  transfer_syntax: "1.2.840.10008.1.2.1",
  size: 1,
});

describe("stack", () => {
  it("orders instances by number and expands multi-frame ones", () => {
    const s = stackOf([inst("c", 3), inst("a", 1), inst("x", null), inst("b", 2, 3)]);
    expect(s.map((i) => `${i.sop}:${i.frame}`)).toEqual(["a:1", "b:1", "b:2", "b:3", "c:1", "x:1"]);
  });

  it("prefetches nearest first, ahead before behind, skipping what is loaded", () => {
    expect(prefetchOrder(5, 10, () => false)).toEqual([5, 6, 4, 7, 3, 8, 2, 9, 1, 0]);
    expect(prefetchOrder(5, 10, () => false, -1).slice(0, 3)).toEqual([5, 4, 6]);
    expect(prefetchOrder(0, 4, (i) => i === 1)).toEqual([0, 2, 3]);
  });

  it("knows waveform objects", () => {
    expect(isWaveform("1.2.840.10008.5.1.4.1.1.9.1.1")).toBe(true);
    expect(isWaveform("1.2.840.10008.5.1.4.1.1.2")).toBe(false);
  });
});

describe("where a stack opens", () => {
  const inst = (sop: string, n: number, frames: number) => ({ series_uid: "s", sop_uid: sop, sop_class: "1.2.840.10008.5.1.4.1.1.3.1", instance_number: n, frames, transfer_syntax: "", size: 0 });
  it("opens a CT in the middle", () => {
    const ct = stackOf([1, 2, 3, 4, 5].map((n) => inst(`i${n}`, n, 1)));
    expect(isCine(ct)).toBe(false);
    expect(startIndex(ct)).toBe(2);
  });
  it("opens an ultrasound cine on its first frame", () => {
    const cine = stackOf([inst("us", 1, 32)]);
    expect(isCine(cine)).toBe(true);
    expect(startIndex(cine)).toBe(0);
    expect(cine[startIndex(cine)].frame).toBe(1);
  });
});

import { describe, expect, it } from "vitest";
import { applyLut, buildLut, dragWindow, fullRange, lutOffset, packGrey, windowValue } from "./lut";

const grey = (packed: number) => packed & 0xff;

describe("window/level", () => {
  it("maps a linear window as DICOM defines it", () => {
    const w = { center: 40, width: 400 };
    expect(windowValue(-160.5, w)).toBe(0);
    expect(windowValue(-1000, w)).toBe(0);
    expect(windowValue(240, w)).toBe(255);
    expect(windowValue(40, w)).toBeCloseTo(127.8, 0);
    expect(windowValue(-60, w)).toBeCloseTo(64, 0);
  });

  it("LINEAR_EXACT and SIGMOID windows", () => {
    expect(windowValue(0, { center: 0, width: 100 }, "LinearExact")).toBeCloseTo(127.5);
    expect(windowValue(50.1, { center: 0, width: 100 }, "LinearExact")).toBe(255);
    expect(windowValue(0, { center: 0, width: 100 }, "Sigmoid")).toBeCloseTo(127.5);
    expect(windowValue(1000, { center: 0, width: 100 }, "Sigmoid")).toBeCloseTo(255);
  });

  it("folds rescale into the table: stored 1064 with intercept −1024 is 40 HU", () => {
    const lut = buildLut({ sampleType: "uint16", slope: 1, intercept: -1024, window: { center: 40, width: 1 }, invert: false });
    expect(grey(lut[1064 + lutOffset("uint16")])).toBe(255);
    expect(grey(lut[1000])).toBe(0);
  });

  it("indexes signed samples from −32768", () => {
    const lut = buildLut({ sampleType: "int16", slope: 1, intercept: 0, window: { center: -600, width: 1500 }, invert: false });
    const out = new Uint32Array(3);
    applyLut(new Int16Array([-1000, -600, 500]), lut, lutOffset("int16"), out);
    expect(grey(out[0])).toBeLessThan(grey(out[1]));
    expect(grey(out[1])).toBeCloseTo(128, -1);
    expect(grey(out[2])).toBe(255);
  });

  it("applies slope for stored values that keep their rescale", () => {
    const lut = buildLut({ sampleType: "uint16", slope: 0.5, intercept: 0, window: { center: 100, width: 2 }, invert: false });
    expect(grey(lut[200])).toBeGreaterThan(grey(lut[190]));
    expect(grey(lut[300])).toBe(255);
  });

  it("MONOCHROME1 shows low values white", () => {
    const lut = buildLut({ sampleType: "uint16", slope: 1, intercept: 0, window: { center: 500, width: 1000 }, invert: true });
    expect(grey(lut[0])).toBe(255);
    expect(grey(lut[1000])).toBe(0);
  });

  it("packs opaque grey pixels", () => {
    const bytes = new Uint8Array(new Uint32Array([packGrey(200)]).buffer);
    expect([...bytes]).toEqual([200, 200, 200, 255]);
  });

  it("dragging right widens, down raises the centre, never below width 1", () => {
    const w = dragWindow({ center: 40, width: 400 }, 100, 50, 4096);
    expect(w.width).toBe(1200);
    expect(w.center).toBe(440);
    expect(dragWindow({ center: 0, width: 10 }, -1000, 0, 4096).width).toBe(1);
    expect(fullRange(-1024, 3071)).toEqual({ center: 1023.5, width: 4095 });
  });
});

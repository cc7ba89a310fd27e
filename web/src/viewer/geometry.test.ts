import { describe, expect, it } from "vitest";
import { FIT, distance, labelPlace, panBy, pinch, scrollIndex, toCanvas, toImage, transformOf, zoomAt } from "./geometry";

const canvas = { width: 800, height: 600 };
const image = { width: 512, height: 512 };

describe("viewer geometry", () => {
  it("fits and centres the image", () => {
    const t = transformOf(FIT, image, canvas);
    expect(t.sx).toBeCloseTo(600 / 512);
    expect(toCanvas(t, { x: 256, y: 256 })).toEqual({ x: 400, y: 300 });
    expect(toCanvas(t, { x: 0, y: 0 }).y).toBeCloseTo(0);
  });

  it("round-trips canvas and image points", () => {
    const view = { zoom: 2.5, panX: 30, panY: -12 };
    const t = transformOf(view, image, canvas);
    const p = toImage(t, toCanvas(t, { x: 100.5, y: 321 }));
    expect(p.x).toBeCloseTo(100.5);
    expect(p.y).toBeCloseTo(321);
  });

  it("zooming keeps the point under the cursor still", () => {
    const at = { x: 620, y: 150 };
    const before = toImage(transformOf(FIT, image, canvas), at);
    const zoomed = zoomAt(FIT, 3, at, canvas);
    const after = toImage(transformOf(zoomed, image, canvas), at);
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
    expect(zoomAt(FIT, 1000, at, canvas).zoom).toBe(20);
  });

  it("pinching apart zooms about the fingers, moving them pans", () => {
    const v = pinch(FIT, [{ x: 300, y: 300 }, { x: 500, y: 300 }], [{ x: 250, y: 300 }, { x: 550, y: 300 }], canvas);
    expect(v.zoom).toBeCloseTo(1.5);
    const moved = pinch(FIT, [{ x: 300, y: 300 }, { x: 500, y: 300 }], [{ x: 310, y: 320 }, { x: 510, y: 320 }], canvas);
    expect(moved).toEqual(panBy(FIT, 10, 20));
  });

  it("draws non-square pixels with their aspect", () => {
    const t = transformOf(FIT, { width: 100, height: 100 }, canvas, [2, 1]);
    expect(t.sy / t.sx).toBeCloseTo(2);
  });

  it("measures in mm from (row, column) spacing, in pixels without it", () => {
    expect(distance({ x: 0, y: 0 }, { x: 100, y: 0 }, [0.5, 0.7]).mm).toBeCloseTo(70);
    expect(distance({ x: 0, y: 0 }, { x: 0, y: 100 }, [0.5, 0.7]).mm).toBeCloseTo(50);
    expect(distance({ x: 0, y: 0 }, { x: 30, y: 40 }, [1, 1]).mm).toBeCloseTo(50);
    expect(distance({ x: 0, y: 0 }, { x: 30, y: 40 }, null)).toEqual({ mm: null, px: 50 });
  });

  it("scrolls the stack by drag distance within bounds", () => {
    expect(scrollIndex(10, 80, 300)).toBe(20);
    expect(scrollIndex(10, -800, 300)).toBe(0);
    expect(scrollIndex(290, 800, 300)).toBe(299);
  });
});

describe("measurement label", () => {
  const canvas = { width: 390, height: 500 };
  const text = { width: 80, height: 11 };
  const inside = (p: { x: number; y: number }) =>
    p.x >= 0 && p.x + text.width <= canvas.width && p.y - text.height >= 0 && p.y <= canvas.height;

  it("sits right of the line when there is room", () => {
    const p = labelPlace({ x: 50, y: 100 }, { x: 150, y: 120 }, text, canvas);
    expect(p.x).toBe(158);
    expect(inside(p)).toBe(true);
  });

  it("moves left of a line that reaches the right edge", () => {
    const p = labelPlace({ x: 200, y: 100 }, { x: 385, y: 100 }, text, canvas);
    expect(p.x + text.width).toBeLessThanOrEqual(200);
    expect(inside(p)).toBe(true);
  });

  it("stays inside for a line along the whole width and at the top and bottom edges", () => {
    for (const [a, b] of [
      [{ x: 0, y: 0 }, { x: 390, y: 0 }],
      [{ x: 2, y: 499 }, { x: 388, y: 499 }],
      [{ x: -50, y: 250 }, { x: 500, y: 250 }],
    ]) {
      expect(inside(labelPlace(a, b, text, canvas))).toBe(true);
    }
  });
});

import { describe, expect, it } from "vitest";
import { arrowWings, byFrame, distanceTo, frameKey, hitTest, shapeFromDrag, textAt, type Shape } from "./annotations";
import { toCanvas, toImage, transformOf } from "../viewer/geometry";

const image = { width: 512, height: 256 };

describe("annotation shapes", () => {
  it("a drag makes an arrow or a length between its ends, inside the image", () => {
    expect(shapeFromDrag("arrow", { x: 10, y: 20 }, { x: 100, y: 40 }, image, 1)).toEqual({ kind: "arrow", from: [10, 20], to: [100, 40] });
    expect(shapeFromDrag("length", { x: -5, y: 20 }, { x: 600, y: 300 }, image, 1)).toEqual({ kind: "length", from: [0, 20], to: [512, 256] });
  });

  it("an ellipse fills the box the drag spans, whichever way it goes", () => {
    expect(shapeFromDrag("ellipse", { x: 100, y: 80 }, { x: 40, y: 20 }, image, 1)).toEqual({ kind: "ellipse", center: [70, 50], radius: [30, 30] });
  });

  it("a tap is not a shape, judged in screen pixels", () => {
    expect(shapeFromDrag("arrow", { x: 10, y: 10 }, { x: 12, y: 10 }, image, 1)).toBeNull();
    // The same 2 image pixels are 8 screen pixels at 4× zoom: a shape.
    expect(shapeFromDrag("arrow", { x: 10, y: 10 }, { x: 12, y: 10 }, image, 4)).not.toBeNull();
  });

  it("text is trimmed and refused when empty, too long or holding a backslash", () => {
    expect(textAt({ x: 5, y: 6 }, "  結節  ", image)).toEqual({ kind: "text", at: [5, 6], text: "結節" });
    expect(textAt({ x: 5, y: 6 }, "   ", image)).toBeNull();
    expect(textAt({ x: 5, y: 6 }, "a\\b", image)).toBeNull();
    expect(textAt({ x: 5, y: 6 }, "x".repeat(1025), image)).toBeNull();
  });
});

describe("hit-testing", () => {
  const shapes: Shape[] = [
    { kind: "length", from: [0, 0], to: [100, 0] },
    { kind: "ellipse", center: [200, 100], radius: [50, 20] },
    { kind: "text", at: [300, 200], text: "note" },
  ];

  it("finds a line near its segment, not past its end", () => {
    expect(distanceTo(shapes[0], [50, 3])).toBeCloseTo(3);
    expect(distanceTo(shapes[0], [110, 0])).toBeCloseTo(10);
    expect(hitTest(shapes, [50, 3], 4)).toBe(0);
    expect(hitTest(shapes, [50, 10], 4)).toBe(-1);
  });

  it("finds an ellipse on its outline, not in its middle", () => {
    expect(hitTest(shapes, [250, 100], 2)).toBe(1);
    expect(hitTest(shapes, [200, 80], 2)).toBe(1);
    expect(hitTest(shapes, [200, 100], 2)).toBe(-1);
  });

  it("finds text inside its box, and the topmost shape first", () => {
    const box = () => ({ width: 40, height: 12 });
    expect(hitTest(shapes, [320, 195], 0, box)).toBe(2);
    expect(hitTest(shapes, [320, 215], 0, box)).toBe(-1);
    const twice = [...shapes, { kind: "length", from: [0, 0], to: [100, 0] } as Shape];
    expect(hitTest(twice, [50, 0], 1)).toBe(3);
  });
});

describe("annotations under zoom and pan", () => {
  it("a shape drawn on screen lands on the same image pixels at any zoom and pan", () => {
    const canvas = { width: 390, height: 500 };
    for (const view of [{ zoom: 1, panX: 0, panY: 0 }, { zoom: 3.5, panX: -40, panY: 25 }]) {
      const t = transformOf(view, image, canvas);
      const a = toCanvas(t, { x: 100, y: 50 });
      const b = toCanvas(t, { x: 300, y: 200 });
      const shape = shapeFromDrag("arrow", toImage(t, a), toImage(t, b), image, t.sx);
      expect(shape?.kind).toBe("arrow");
      if (shape?.kind !== "arrow") return;
      expect(shape.from[0]).toBeCloseTo(100);
      expect(shape.from[1]).toBeCloseTo(50);
      expect(shape.to[0]).toBeCloseTo(300);
      expect(shape.to[1]).toBeCloseTo(200);
    }
  });
});

describe("arrowheads and frames", () => {
  it("an arrowhead's wings point back along the shaft, symmetric about it", () => {
    const [l, r] = arrowWings([0, 0], [100, 0]);
    expect(l[0]).toBeLessThan(100);
    expect(r[0]).toBeLessThan(100);
    expect(l[1] + r[1]).toBeCloseTo(0);
  });

  it("stored annotations are grouped by instance and frame, a single frame as frame 1", () => {
    const a: Shape = { kind: "text", at: [1, 1], text: "a" };
    const b: Shape = { kind: "text", at: [2, 2], text: "b" };
    const map = byFrame([
      { presentation_uid: "p1", sop_uid: "s", frame: null, shapes: [a] },
      { presentation_uid: "p2", sop_uid: "s", frame: 1, shapes: [b] },
      { presentation_uid: "p3", sop_uid: "s", frame: 2, shapes: [b] },
    ]);
    expect(map.get(frameKey("s", 1))).toEqual([a, b]);
    expect(map.get(frameKey("s", 2))).toEqual([b]);
  });
});

//! Annotations drawn on a frame: shapes in image pixels (DICOM PIXEL units: (0, 0) is the top
//! left corner of the top left pixel), made from a drag or a tap, kept inside the image,
//! hit-tested for removal, and grouped by the frame they belong to. Pure; the viewer draws them.

export type Xy = [number, number];

export type Shape =
  | { kind: "arrow"; from: Xy; to: Xy }
  /** `label` is the server's (from the image's pixel spacing), on stored lengths only */
  | { kind: "length"; from: Xy; to: Xy; label?: string }
  | { kind: "ellipse"; center: Xy; radius: Xy }
  | { kind: "text"; at: Xy; text: string };

export type DrawTool = "arrow" | "length" | "ellipse" | "text";

/** The annotations of one frame as the server answers them. */
export interface FrameAnnotations {
  presentation_uid: string;
  sop_uid: string;
  frame: number | null;
  shapes: Shape[];
}

export interface ImageSize {
  width: number;
  height: number;
}

/** A drag shorter than this many screen pixels is a tap, not a shape. */
export const MIN_DRAG_PX = 6;
/** Longest free text (DICOM ST). */
export const MAX_TEXT = 1024;

export function clampTo(image: ImageSize, p: { x: number; y: number }): Xy {
  return [Math.min(image.width, Math.max(0, p.x)), Math.min(image.height, Math.max(0, p.y))];
}

/**
 * The shape a drag from `a` to `b` (image points) makes with `tool`, kept inside the image; null
 * for a drag under {@link MIN_DRAG_PX} screen pixels at `scale` screen pixels per image pixel.
 * An ellipse fills the box the drag spans.
 */
export function shapeFromDrag(tool: Exclude<DrawTool, "text">, a: { x: number; y: number }, b: { x: number; y: number }, image: ImageSize, scale: number): Shape | null {
  const from = clampTo(image, a);
  const to = clampTo(image, b);
  if (Math.hypot(to[0] - from[0], to[1] - from[1]) * scale < MIN_DRAG_PX) return null;
  if (tool === "ellipse") {
    const radius: Xy = [Math.abs(to[0] - from[0]) / 2, Math.abs(to[1] - from[1]) / 2];
    if (Math.min(radius[0], radius[1]) * 2 * scale < MIN_DRAG_PX / 2) return null;
    return { kind: "ellipse", center: [(from[0] + to[0]) / 2, (from[1] + to[1]) / 2], radius };
  }
  return { kind: tool, from, to };
}

/** A text placed at a tap, trimmed; null when empty, too long, or holding a backslash (DICOM's value separator). */
export function textAt(p: { x: number; y: number }, text: string, image: ImageSize): Shape | null {
  const t = text.trim();
  if (!t || [...t].length > MAX_TEXT || t.includes("\\")) return null;
  return { kind: "text", at: clampTo(image, p), text: t };
}

function segmentDistance(p: Xy, a: Xy, b: Xy): number {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/** Distance from `p` to the shape's outline (image pixels); text counts as a box of `textBox` size right of and above its anchor. */
export function distanceTo(shape: Shape, p: Xy, textBox: ImageSize = { width: 0, height: 0 }): number {
  switch (shape.kind) {
    case "arrow":
    case "length":
      return segmentDistance(p, shape.from, shape.to);
    case "ellipse": {
      const [cx, cy] = shape.center;
      const [rx, ry] = shape.radius;
      // The point scaled onto the unit circle: its distance from the outline, back in pixels.
      const nx = (p[0] - cx) / rx;
      const ny = (p[1] - cy) / ry;
      const r = Math.hypot(nx, ny);
      return Math.abs(r - 1) * Math.min(rx, ry);
    }
    case "text": {
      const [x, y] = shape.at;
      const dx = Math.max(x - p[0], 0, p[0] - (x + textBox.width));
      const dy = Math.max(y - textBox.height - p[1], 0, p[1] - y);
      return Math.hypot(dx, dy);
    }
  }
}

/** The index of the topmost (last drawn) shape within `tolerance` image pixels of `p`, or -1. */
export function hitTest(shapes: Shape[], p: Xy, tolerance: number, textBox?: (s: Shape) => ImageSize): number {
  for (let i = shapes.length - 1; i >= 0; i--) {
    if (distanceTo(shapes[i], p, textBox?.(shapes[i])) <= tolerance) return i;
  }
  return -1;
}

/** The two ends of an arrowhead's wings at `to` (image points): 12 % of the arrow, at least `min`, 25° off the shaft. */
export function arrowWings(from: Xy, to: Xy, min = 4): [Xy, Xy] {
  const [dx, dy] = [from[0] - to[0], from[1] - to[1]];
  const len = Math.max(Math.hypot(dx, dy), Number.EPSILON);
  const wing = Math.max(len * 0.12, min);
  const turn = (a: number): Xy => {
    const [s, c] = [Math.sin(a), Math.cos(a)];
    return [to[0] + ((dx * c - dy * s) / len) * wing, to[1] + ((dx * s + dy * c) / len) * wing];
  };
  const angle = (25 * Math.PI) / 180;
  return [turn(angle), turn(-angle)];
}

/** Where a frame's annotations are kept: its instance and 1-based frame. */
export function frameKey(sop: string, frame: number | null | undefined): string {
  return `${sop}#${frame ?? 1}`;
}

/** Stored annotations by frame, in the order they were stored. */
export function byFrame(list: FrameAnnotations[]): Map<string, Shape[]> {
  const out = new Map<string, Shape[]>();
  for (const a of list) {
    const key = frameKey(a.sop_uid, a.frame);
    out.set(key, [...(out.get(key) ?? []), ...a.shapes]);
  }
  return out;
}

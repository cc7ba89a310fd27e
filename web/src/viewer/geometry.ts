//! Zoom, pan and measurement: where an image pixel lands on the canvas, and back; distances in
//! millimetres from the pixel spacing.

export interface Size {
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** The user's view: zoom 1 fits the image to the canvas; pan moves it in canvas pixels. */
export interface View {
  zoom: number;
  panX: number;
  panY: number;
}

export const FIT: View = { zoom: 1, panX: 0, panY: 0 };
export const MIN_ZOOM = 0.25;
export const MAX_ZOOM = 20;

/** Image → canvas: canvas = (x·sx + tx, y·sy + ty). */
export interface Transform {
  sx: number;
  sy: number;
  tx: number;
  ty: number;
}

/**
 * `spacing` is (row spacing, column spacing) in mm; non-square pixels are drawn with their true
 * aspect (taller rows draw taller).
 */
export function transformOf(view: View, image: Size, canvas: Size, spacing?: [number, number] | null): Transform {
  const aspect = spacing && spacing[0] > 0 && spacing[1] > 0 ? spacing[0] / spacing[1] : 1;
  const fit = Math.min(canvas.width / image.width, canvas.height / (image.height * aspect));
  const sx = fit * view.zoom;
  const sy = sx * aspect;
  return {
    sx,
    sy,
    tx: canvas.width / 2 + view.panX - (image.width / 2) * sx,
    ty: canvas.height / 2 + view.panY - (image.height / 2) * sy,
  };
}

export function toCanvas(t: Transform, p: Point): Point {
  return { x: p.x * t.sx + t.tx, y: p.y * t.sy + t.ty };
}

export function toImage(t: Transform, p: Point): Point {
  return { x: (p.x - t.tx) / t.sx, y: (p.y - t.ty) / t.sy };
}

export function clampZoom(zoom: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

/** Zooms by `factor` keeping the image point under `at` (canvas pixels) where it is. */
export function zoomAt(view: View, factor: number, at: Point, canvas: Size): View {
  const zoom = clampZoom(view.zoom * factor);
  const k = zoom / view.zoom;
  // The canvas point `at` is offset (at - centre - pan) from the image centre; scale that offset.
  const cx = canvas.width / 2 + view.panX;
  const cy = canvas.height / 2 + view.panY;
  return {
    zoom,
    panX: view.panX + (at.x - cx) * (1 - k),
    panY: view.panY + (at.y - cy) * (1 - k),
  };
}

export function panBy(view: View, dx: number, dy: number): View {
  return { ...view, panX: view.panX + dx, panY: view.panY + dy };
}

/** A two-finger gesture: scale by the change of finger distance about their midpoint, and pan. */
export function pinch(view: View, before: [Point, Point], after: [Point, Point], canvas: Size): View {
  const d0 = Math.hypot(before[0].x - before[1].x, before[0].y - before[1].y);
  const d1 = Math.hypot(after[0].x - after[1].x, after[0].y - after[1].y);
  const m0 = { x: (before[0].x + before[1].x) / 2, y: (before[0].y + before[1].y) / 2 };
  const m1 = { x: (after[0].x + after[1].x) / 2, y: (after[0].y + after[1].y) / 2 };
  const zoomed = d0 > 0 ? zoomAt(view, d1 / d0, m0, canvas) : view;
  return panBy(zoomed, m1.x - m0.x, m1.y - m0.y);
}

/**
 * The distance between two image points. With spacing (row mm, column mm) it is in mm;
 * without, in pixels (`mm` is null).
 */
export function distance(a: Point, b: Point, spacing?: [number, number] | null): { mm: number | null; px: number } {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const px = Math.hypot(dx, dy);
  if (!spacing || !(spacing[0] > 0) || !(spacing[1] > 0)) return { mm: null, px };
  return { mm: Math.hypot(dx * spacing[1], dy * spacing[0]), px };
}

/** Which stack index a drag of `dy` pixels reaches (one slice per `pixelsPerSlice`). */
export function scrollIndex(start: number, dy: number, count: number, pixelsPerSlice = 8): number {
  return Math.min(count - 1, Math.max(0, start + Math.trunc(dy / pixelsPerSlice)));
}

/**
 * Where a measurement's label goes (its text's left end and baseline, canvas pixels): right of
 * the line's rightmost end, or left of its leftmost end when it would pass the right edge, and
 * always inside the canvas (`margin` from each edge), so it is never clipped.
 */
export function labelPlace(a: Point, b: Point, text: Size, canvas: Size, gap = 8, margin = 4): Point {
  const right = Math.max(a.x, b.x) + gap;
  const left = Math.min(a.x, b.x) - gap - text.width;
  let x = right + text.width <= canvas.width - margin ? right : left;
  x = Math.min(Math.max(x, margin), Math.max(margin, canvas.width - margin - text.width));
  const mid = (a.y + b.y) / 2 + text.height / 2;
  const y = Math.min(Math.max(mid, margin + text.height), Math.max(margin + text.height, canvas.height - margin));
  return { x, y };
}

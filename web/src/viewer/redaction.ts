//! Redaction boxes drawn on a frame: a drag between two image points becomes a rectangle in
//! whole image pixels, clipped to the image (what the server's redaction API takes).

import type { Point, Size } from "./geometry";

/** A rectangle in image pixels (as `POST …/redactions` takes it). */
export interface Area {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The most boxes one redaction may blank (the server's limit). */
export const MAX_BOXES = 64;

/**
 * The box between image points `a` and `b`, outward to whole pixels and clipped to `image`;
 * `null` when nothing of it lies on the image or it is thinner than `min` pixels (a tap).
 */
export function boxBetween(a: Point, b: Point, image: Size, min = 2): Area | null {
  const left = Math.max(0, Math.floor(Math.min(a.x, b.x)));
  const top = Math.max(0, Math.floor(Math.min(a.y, b.y)));
  const right = Math.min(image.width, Math.ceil(Math.max(a.x, b.x)));
  const bottom = Math.min(image.height, Math.ceil(Math.max(a.y, b.y)));
  if (right - left < min || bottom - top < min) return null;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

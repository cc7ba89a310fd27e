//! Painting a frame onto the viewport canvas: the windowed image (kept in an off-screen
//! canvas until the frame or window changes), redaction boxes, then its annotations
//! (`annotate/draw`).

import { applyLut, buildLut, lutOffset, type VoiFunction, type Window } from "./lut";
import { toCanvas, type Transform } from "./geometry";
import type { Shape } from "../state/annotations";
import { drawShapes } from "./annotate/draw";
import type { LoadedFrame } from "./frames";
import type { FrameInfo } from "./wire";
import type { Area } from "./redaction";

/** The window a frame shows by default: its own first preset, else its full range. */
export function ownWindow(info: FrameInfo): { window: Window; fn: VoiFunction } {
  const p = info.window_presets[0];
  if (p) return { window: { center: p.center, width: p.width }, fn: p.function };
  return { window: { center: (info.min_value + info.max_value) / 2, width: Math.max(1, info.max_value - info.min_value) }, fn: "Linear" };
}

export class Painter {
  private off = document.createElement("canvas");
  private offCtx = this.off.getContext("2d")!;
  private image: ImageData | null = null;
  private lut: Uint32Array | null = null;
  private lutKey = "";
  private paintedKey = "";

  /** Brings the off-screen image up to date for `frame` (at stack `index`) and `window`. */
  private prepare(index: number, frame: LoadedFrame & { kind: "raw" }, window: Window, fn: VoiFunction) {
    const { info, samples } = frame;
    const lutKey = `${info.sample_type}|${info.rescale_slope}|${info.rescale_intercept}|${window.center}|${window.width}|${fn}|${info.invert}`;
    const key = `${index}|${lutKey}`;
    if (key === this.paintedKey) return;
    if (lutKey !== this.lutKey || !this.lut) {
      this.lut = buildLut({
        sampleType: info.sample_type,
        slope: info.rescale_slope,
        intercept: info.rescale_intercept,
        window,
        invert: info.invert,
        fn,
      });
      this.lutKey = lutKey;
    }
    if (!this.image || this.image.width !== info.columns || this.image.height !== info.rows) {
      this.image = new ImageData(info.columns, info.rows);
      this.off.width = info.columns;
      this.off.height = info.rows;
    }
    applyLut(samples, this.lut, lutOffset(info.sample_type), new Uint32Array(this.image.data.buffer));
    this.offCtx.putImageData(this.image, 0, 0);
    this.paintedKey = key;
  }

  paint(
    ctx: CanvasRenderingContext2D,
    dpr: number,
    t: Transform,
    index: number,
    frame: LoadedFrame,
    window: Window,
    fn: VoiFunction,
    shapes: Shape[],
    spacing: [number, number] | null,
    selected = -1,
    boxes: Area[] = [],
  ) {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    let source: CanvasImageSource;
    if (frame.kind === "raw") {
      this.prepare(index, frame, window, fn);
      source = this.off;
    } else {
      source = frame.bitmap;
    }
    ctx.setTransform(dpr * t.sx, 0, 0, dpr * t.sy, dpr * t.tx, dpr * t.ty);
    // Enlarged pixels stay crisp (what a radiologist expects); reduced images are smoothed.
    ctx.imageSmoothingEnabled = t.sx < 2;
    ctx.drawImage(source, 0, 0);
    // Redaction boxes as they will be: black, outlined so that they can be seen on black.
    ctx.fillStyle = "#000";
    for (const b of boxes) ctx.fillRect(b.x, b.y, b.width, b.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#ff6b6b";
    for (const b of boxes) {
      const p = toCanvas(t, { x: b.x, y: b.y });
      const q = toCanvas(t, { x: b.x + b.width, y: b.y + b.height });
      ctx.strokeRect(p.x, p.y, q.x - p.x, q.y - p.y);
    }
    ctx.setLineDash([]);
    const view = { width: ctx.canvas.width / dpr, height: ctx.canvas.height / dpr };
    drawShapes(ctx, t, shapes, spacing, view, selected);
  }
}

//! Painting a frame onto the viewport canvas: the windowed image (kept in an off-screen
//! canvas until the frame or window changes), redaction boxes, then measurement lines and their
//! lengths.

import { applyLut, buildLut, lutOffset, type VoiFunction, type Window } from "./lut";
import { distance, labelPlace, toCanvas, type Point, type Size, type Transform } from "./geometry";
import type { LoadedFrame } from "./frames";
import type { FrameInfo } from "./wire";
import type { Area } from "./redaction";

export interface Line {
  a: Point;
  b: Point;
}

/** The window a frame shows by default: its own first preset, else its full range. */
export function ownWindow(info: FrameInfo): { window: Window; fn: VoiFunction } {
  const p = info.window_presets[0];
  if (p) return { window: { center: p.center, width: p.width }, fn: p.function };
  return { window: { center: (info.min_value + info.max_value) / 2, width: Math.max(1, info.max_value - info.min_value) }, fn: "Linear" };
}

/** Formats a measured length: mm with one decimal, or pixels without spacing. */
export function lengthLabel(line: Line, spacing: [number, number] | null | undefined): string {
  const d = distance(line.a, line.b, spacing);
  return d.mm !== null ? `${d.mm.toFixed(1)} mm` : `${d.px.toFixed(0)} px`;
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
    lines: Line[],
    spacing: [number, number] | null,
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
    for (const line of lines) drawLine(ctx, t, line, lengthLabel(line, spacing), view);
  }
}

function drawLine(ctx: CanvasRenderingContext2D, t: Transform, line: Line, label: string, view: Size) {
  const a = toCanvas(t, line.a);
  const b = toCanvas(t, line.b);
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#ffd54a";
  ctx.fillStyle = "#ffd54a";
  ctx.beginPath();
  ctx.moveTo(a.x, a.y);
  ctx.lineTo(b.x, b.y);
  ctx.stroke();
  for (const p of [a, b]) {
    ctx.beginPath();
    ctx.arc(p.x, p.y, 4, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.font = "600 14px system-ui, sans-serif";
  // The label stays on screen even when the line reaches the edge (14 px text, ~11 px above the baseline).
  const { x, y } = labelPlace(a, b, { width: ctx.measureText(label).width, height: 11 }, view);
  ctx.lineWidth = 4;
  ctx.strokeStyle = "rgba(0,0,0,0.85)";
  ctx.strokeText(label, x, y);
  ctx.fillText(label, x, y);
}

//! Drawing annotations (arrows, lengths with their labels, ellipses, free text) over a frame on
//! a canvas, through the image → canvas transform; the viewer and the chat's key image share it.

import { arrowWings, type Shape, type Xy } from "../../state/annotations";
import { distance, labelPlace, toCanvas, type Size, type Transform } from "../geometry";

export const ANNOTATION_COLOUR = "#ffd54a";
const SELECTED_COLOUR = "#4fc3f7";

/** A length's label: mm with one decimal, or pixels without spacing (as the server writes it). */
export function lengthText(from: Xy, to: Xy, spacing: [number, number] | null | undefined): string {
  const d = distance({ x: from[0], y: from[1] }, { x: to[0], y: to[1] }, spacing);
  return d.mm !== null ? `${d.mm.toFixed(1)} mm` : `${d.px.toFixed(0)} px`;
}

function outlinedText(ctx: CanvasRenderingContext2D, text: string, x: number, y: number) {
  ctx.lineWidth = 4;
  ctx.strokeStyle = "rgba(0,0,0,0.85)";
  ctx.strokeText(text, x, y);
  ctx.fillText(text, x, y);
}

/** The font of annotation text at `scale` (1 in the viewer; smaller on a thumbnail). */
export function annotationFont(scale = 1): string {
  return `600 ${Math.round(14 * scale)}px system-ui, sans-serif`;
}

/** Draws `shapes` (image pixels) with `t`; `selected` is drawn in another colour. Call with the context in CSS pixels. */
export function drawShapes(ctx: CanvasRenderingContext2D, t: Transform, shapes: Shape[], spacing: [number, number] | null, view: Size, selected = -1, scale = 1) {
  const at = (p: Xy) => toCanvas(t, { x: p[0], y: p[1] });
  ctx.font = annotationFont(scale);
  ctx.lineJoin = "round";
  shapes.forEach((shape, i) => {
    const colour = i === selected ? SELECTED_COLOUR : ANNOTATION_COLOUR;
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = 2 * scale;
    switch (shape.kind) {
      case "arrow": {
        const [a, b] = [at(shape.from), at(shape.to)];
        const [l, r] = arrowWings([a.x, a.y], [b.x, b.y], 10 * scale);
        ctx.beginPath();
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
        ctx.moveTo(l[0], l[1]);
        ctx.lineTo(b.x, b.y);
        ctx.lineTo(r[0], r[1]);
        ctx.stroke();
        return;
      }
      case "length": {
        const [a, b] = [at(shape.from), at(shape.to)];
        ctx.beginPath();
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
        ctx.stroke();
        for (const p of [a, b]) {
          ctx.beginPath();
          ctx.arc(p.x, p.y, 4 * scale, 0, Math.PI * 2);
          ctx.fill();
        }
        const label = shape.label ?? lengthText(shape.from, shape.to, spacing);
        const place = labelPlace(a, b, { width: ctx.measureText(label).width, height: 11 * scale }, view);
        outlinedText(ctx, label, place.x, place.y);
        ctx.fillStyle = colour;
        return;
      }
      case "ellipse": {
        const c = at(shape.center);
        ctx.beginPath();
        ctx.ellipse(c.x, c.y, Math.abs(shape.radius[0] * t.sx), Math.abs(shape.radius[1] * t.sy), 0, 0, Math.PI * 2);
        ctx.stroke();
        return;
      }
      case "text": {
        const p = at(shape.at);
        outlinedText(ctx, shape.text, p.x, p.y);
        return;
      }
    }
  });
}

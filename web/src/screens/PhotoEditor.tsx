//! Black boxes and blur on a photo before it is sent, done here on a canvas: boxes dragged over
//! the picture (a wristband, a monitor, a face), each black or blurred; the result replaces the
//! picked photo (the server then re-encodes it as any photo).

import { useEffect, useRef, useState, type PointerEvent } from "react";
import { useI18n } from "../i18n/i18n";
import { Sheet } from "./Sheet";
import { boxBetween, type Area } from "../viewer/redaction";

type Mode = "black" | "blur";
interface Box extends Area {
  mode: Mode;
}

/** Paints `boxes` onto `ctx`, which holds the photo at its own size. */
export function applyBoxes(ctx: CanvasRenderingContext2D, boxes: Box[]) {
  for (const b of boxes) {
    if (b.mode === "black") {
      ctx.fillStyle = "#000";
      ctx.fillRect(b.x, b.y, b.width, b.height);
      continue;
    }
    // Blur: the area shrunk to a sixteenth and stretched back, smoothed.
    const small = document.createElement("canvas");
    small.width = Math.max(1, Math.round(b.width / 16));
    small.height = Math.max(1, Math.round(b.height / 16));
    const s = small.getContext("2d")!;
    s.imageSmoothingEnabled = true;
    s.imageSmoothingQuality = "high";
    s.drawImage(ctx.canvas, b.x, b.y, b.width, b.height, 0, 0, small.width, small.height);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, small.width, small.height, b.x, b.y, b.width, b.height);
  }
}

export function PhotoEditor({ file, onDone, onClose }: { file: File; onDone: (edited: File) => void; onClose: () => void }) {
  const { t } = useI18n();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [image, setImage] = useState<ImageBitmap | null>(null);
  const [mode, setMode] = useState<Mode>("black");
  const [boxes, setBoxes] = useState<Box[]>([]);
  const start = useRef<{ x: number; y: number } | null>(null);
  const [pending, setPending] = useState<Box | null>(null);

  useEffect(() => {
    let live = true;
    createImageBitmap(file, { imageOrientation: "from-image" }).then((b) => live && setImage(b), () => undefined);
    return () => {
      live = false;
    };
  }, [file]);

  // The photo at its own size, with the boxes on it.
  useEffect(() => {
    const c = canvas.current;
    if (!c || !image) return;
    c.width = image.width;
    c.height = image.height;
    const ctx = c.getContext("2d")!;
    ctx.drawImage(image, 0, 0);
    applyBoxes(ctx, pending ? [...boxes, pending] : boxes);
  }, [image, boxes, pending]);

  const toImage = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const c = e.currentTarget;
    return { x: ((e.clientX - r.left) / r.width) * c.width, y: ((e.clientY - r.top) / r.height) * c.height };
  };
  const size = () => ({ width: canvas.current?.width ?? 1, height: canvas.current?.height ?? 1 });

  const save = () => {
    canvas.current?.toBlob(
      (blob) => {
        if (!blob) return;
        const name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
        onDone(new File([blob], name, { type: "image/jpeg" }));
      },
      "image/jpeg",
      0.92,
    );
  };

  return (
    <Sheet titleId="photo-editor-title" title={t("photoEdit.title")} onClose={onClose} className="photo-editor">
      <p className="photo-editor-hint">{t("photoEdit.hint")}</p>
      <div className="photo-editor-modes" role="radiogroup" aria-label={t("photoEdit.mode")}>
        {(["black", "blur"] as const).map((m) => (
          <button key={m} type="button" role="radio" aria-checked={mode === m} className={mode === m ? "on" : ""} onClick={() => setMode(m)}>
            {t(m === "black" ? "photoEdit.black" : "photoEdit.blur")}
          </button>
        ))}
      </div>
      <canvas
        ref={canvas}
        className="photo-editor-canvas"
        role="img"
        aria-label={t("photoEdit.canvas", { n: boxes.length })}
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          start.current = toImage(e);
        }}
        onPointerMove={(e) => {
          if (!start.current) return;
          const box = boxBetween(start.current, toImage(e), size(), 4);
          setPending(box && { ...box, mode });
        }}
        onPointerUp={(e) => {
          const from = start.current;
          start.current = null;
          setPending(null);
          const box = from && boxBetween(from, toImage(e), size(), 4);
          if (box) setBoxes((list) => [...list, { ...box, mode }]);
        }}
      />
      <div className="photo-editor-actions">
        <button type="button" className="secondary" disabled={boxes.length === 0} onClick={() => setBoxes((list) => list.slice(0, -1))}>
          {t("photoEdit.undo")}
        </button>
        <button type="button" className="primary" disabled={!image || boxes.length === 0} onClick={save}>
          {t("photoEdit.use")}
        </button>
      </div>
    </Sheet>
  );
}

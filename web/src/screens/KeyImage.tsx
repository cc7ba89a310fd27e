//! A key image in a chat: the frame as the server renders it, with its annotations (from the
//! study's presentation state) drawn over it by the viewer's own drawing code; a tap opens the
//! viewer at that frame. Who may see it is the study's rule: expired or unavailable like a card.

import { useEffect, useRef, useState } from "react";
import { studyUrls } from "../api";
import { useI18n } from "../i18n/i18n";
import { annotationsCard, studyCard } from "../state/cards";
import { nav } from "../state/nav";
import { frameKey, type Shape } from "../state/annotations";
import { modalityLabel } from "../state/study";
import { drawShapes } from "../viewer/annotate/draw";
import { useCard } from "../hooks";
import type { Attachment } from "../types";
import { Icon } from "./common";
import "../viewer/annotate/annotate.css";

type KeyImageRef = { sop_uid: string; frame: number; presentation_uid?: string | null };

/** The shapes a key image shows: its presentation state's on its frame. */
async function shapesOf(study: string, key: KeyImageRef): Promise<Shape[]> {
  const presentation = key.presentation_uid;
  if (!presentation) return [];
  let card = await annotationsCard(study);
  // Sent just now from another device: not in the list read before.
  if (card.state === "ok" && !card.value.some((a) => a.presentation_uid === presentation)) card = await annotationsCard(study, true);
  if (card.state !== "ok") return [];
  const want = frameKey(key.sop_uid, key.frame);
  return card.value.filter((a) => a.presentation_uid === presentation && frameKey(a.sop_uid, a.frame) === want).flatMap((a) => a.shapes);
}

export function KeyImage({ a, keyImage }: { a: Attachment; keyImage: KeyImageRef }) {
  const { t } = useI18n();
  const card = useCard(a.id, studyCard);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [drawn, setDrawn] = useState(false);

  useEffect(() => {
    if (card.state !== "ok") return;
    let live = true;
    const image = new Image();
    image.src = studyUrls.rendered(a.id, keyImage.sop_uid, keyImage.frame, undefined, "jpeg");
    Promise.all([image.decode(), shapesOf(a.id, keyImage)]).then(
      ([, shapes]) => {
        const c = canvas.current;
        const ctx = c?.getContext("2d");
        if (!live || !c || !ctx) return;
        const dpr = window.devicePixelRatio || 1;
        const side = c.clientWidth || 240;
        c.width = c.height = Math.round(side * dpr);
        const scale = Math.min(side / image.naturalWidth, side / image.naturalHeight);
        const t = { sx: scale, sy: scale, tx: (side - image.naturalWidth * scale) / 2, ty: (side - image.naturalHeight * scale) / 2 };
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.fillStyle = "#000";
        ctx.fillRect(0, 0, side, side);
        ctx.drawImage(image, t.tx, t.ty, image.naturalWidth * scale, image.naturalHeight * scale);
        drawShapes(ctx, t, shapes, null, { width: side, height: side }, -1, 0.85);
        setDrawn(true);
        c.dataset.shapes = String(shapes.length);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [card.state, a.id, keyImage]);

  if (card.state === "expired" || card.state === "unavailable") {
    return (
      <span className="attachment expired" role="note">
        <Icon name="expired" />
        <span>{card.state === "expired" ? t("study.expired") : t("study.unavailable")}</span>
      </span>
    );
  }
  const study = card.state === "ok" ? card.value : null;
  return (
    <button
      type="button"
      className="key-image"
      aria-label={t("keyImage.open")}
      onClick={() => nav.open({ kind: "study", id: a.id, at: { sop: keyImage.sop_uid, frame: keyImage.frame } })}
    >
      <canvas ref={canvas} className={drawn ? "drawn" : ""} />
      <span className="key-image-caption">
        <strong>{t("keyImage.title")}</strong>
        <span>{[(study ? modalityLabel(study) : null), study?.body_part, t("study.patientTail", { tail: study?.patient_tail ?? "" })].filter(Boolean).join(" · ")}</span>
      </span>
    </button>
  );
}

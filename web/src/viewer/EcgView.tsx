//! A 12-lead ECG on standard paper (25 mm/s, 10 mm/mV, 3 × 4 leads and a lead II rhythm
//! strip), zoomable with buttons, Ctrl + wheel or a pinch, scrolled when larger than the screen.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "../api";
import { useI18n } from "../i18n/i18n";
import type { Uuid } from "../types";
import type { WaveformGroup } from "./wire";
import { calibrationPulse, gridLines, layout, leadChannels, MM_PER_MV, MM_PER_S, pickGroup, ROW_MM, trace, type Paper } from "./ecg";
import { ViewerIcon } from "./icons";

const MAX_ZOOM = 6;

function drawPaper(ctx: CanvasRenderingContext2D, paper: Paper, group: WaveformGroup, mm: number, dpr: number) {
  const channels = leadChannels(group);
  const fs = group.sampling_frequency_hz;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fffdfb";
  ctx.fillRect(0, 0, paper.width * mm, paper.height * mm);
  const grid = (step: number, color: string, width: number) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    for (const x of gridLines(paper.width, step)) {
      ctx.moveTo(x * mm, 0);
      ctx.lineTo(x * mm, paper.height * mm);
    }
    for (const y of gridLines(paper.height, step)) {
      ctx.moveTo(0, y * mm);
      ctx.lineTo(paper.width * mm, y * mm);
    }
    ctx.stroke();
  };
  if (mm >= 2.5) grid(1, "#f8d7d3", 0.6);
  grid(5, "#eba59c", 1);

  ctx.strokeStyle = "#111820";
  ctx.lineJoin = "round";
  ctx.lineWidth = Math.max(1.1, mm * 0.28);
  const rows = new Set(paper.cells.map((c) => c.baseline));
  for (const baseline of rows) {
    const p = calibrationPulse(baseline);
    ctx.beginPath();
    for (let i = 0; i < p.length; i += 2) ctx[i ? "lineTo" : "moveTo"](p[i] * mm, p[i + 1] * mm);
    ctx.stroke();
  }
  const fontPx = Math.max(11, mm * 3);
  ctx.font = `600 ${fontPx}px system-ui, sans-serif`;
  ctx.fillStyle = "#111820";
  for (const cell of paper.cells) {
    const channel = channels[cell.lead];
    if (!channel) continue;
    const pts = trace(channel.samples, cell, fs);
    ctx.beginPath();
    for (let i = 0; i < pts.length; i += 2) ctx[i ? "lineTo" : "moveTo"](pts[i] * mm, pts[i + 1] * mm);
    ctx.stroke();
    // The lead's name in the top-left corner of its cell, whatever the zoom.
    ctx.fillText(cell.lead, (cell.x + 1) * mm, (cell.baseline - ROW_MM / 2) * mm + fontPx + 2);
    if (cell.start > 0) {
      // A short divider where one lead's 2.5 s ends and the next begins.
      ctx.beginPath();
      ctx.moveTo(cell.x * mm, (cell.baseline - 3) * mm);
      ctx.lineTo(cell.x * mm, (cell.baseline + 3) * mm);
      ctx.stroke();
    }
  }
}

export function EcgView({ study, sop }: { study: Uuid; sop: string }) {
  const { t } = useI18n();
  const [groups, setGroups] = useState<WaveformGroup[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [zoom, setZoom] = useState(1);
  const [fitWidth, setFitWidth] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    let live = true;
    api.waveforms(study, sop).then(
      (g) => live && setGroups(g),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [study, sop]);

  const group = useMemo(() => (groups ? pickGroup(groups) : null), [groups]);
  const paper = useMemo(() => {
    if (!group) return null;
    const channels = leadChannels(group);
    return layout(group, (lead) => !!channels[lead]);
  }, [group]);
  const leads = group ? Object.keys(leadChannels(group)).length : 0;

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    // The paper fits the width inside the container's padding (8 px each side).
    const observer = new ResizeObserver(() => setFitWidth(Math.max(0, el.clientWidth - 16)));
    observer.observe(el);
    return () => observer.disconnect();
  }, [paper]);

  const mm = paper && fitWidth ? (fitWidth / paper.width) * zoom : 0;

  useEffect(() => {
    const c = canvas.current;
    if (!c || !paper || !group || !mm) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(paper.width * mm * dpr);
    c.height = Math.round(paper.height * mm * dpr);
    c.style.width = `${paper.width * mm}px`;
    c.style.height = `${paper.height * mm}px`;
    const ctx = c.getContext("2d");
    if (ctx) drawPaper(ctx, paper, group, mm, dpr);
  }, [paper, group, mm]);

  const zoomTo = useCallback((z: number) => setZoom(Math.min(MAX_ZOOM, Math.max(1, z))), []);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const wheel = (e: WheelEvent) => {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      setZoom((z) => Math.min(MAX_ZOOM, Math.max(1, z * Math.exp(-e.deltaY / 300))));
    };
    el.addEventListener("wheel", wheel, { passive: false });
    return () => el.removeEventListener("wheel", wheel);
  }, [paper]);

  // Two fingers: pinch zoom (the browser's own page zoom is off inside the viewer).
  const touches = useRef(new Map<number, { x: number; y: number }>());
  const pinchStart = useRef<{ d: number; zoom: number } | null>(null);
  const onPointer = (e: React.PointerEvent) => {
    if (e.pointerType !== "touch") return;
    if (e.type === "pointerdown") touches.current.set(e.pointerId, { x: e.clientX, y: e.clientY });
    else if (e.type === "pointermove" && touches.current.has(e.pointerId)) touches.current.set(e.pointerId, { x: e.clientX, y: e.clientY });
    else touches.current.delete(e.pointerId);
    const pts = [...touches.current.values()];
    if (pts.length !== 2) return void (pinchStart.current = null);
    const d = Math.hypot(pts[0].x - pts[1].x, pts[0].y - pts[1].y);
    if (!pinchStart.current) pinchStart.current = { d, zoom };
    else zoomTo((pinchStart.current.zoom * d) / Math.max(1, pinchStart.current.d));
  };

  if (failed) return <div className="viewport-status error" role="alert">{t("ecg.failed")}</div>;
  if (!groups) return <div className="viewport-status" role="status">{t("common.loading")}</div>;
  if (!group || !paper || leads === 0) return <div className="viewport-status" role="alert">{t("ecg.noLeads")}</div>;

  return (
    <div className="ecg">
      <div className="ecg-bar">
        <span className="ecg-summary" data-leads={leads}>
          {t("ecg.summary", { leads, seconds: paper.seconds.toFixed(1), hz: Math.round(group.sampling_frequency_hz) })}
        </span>
        <span className="ecg-scale">{t("ecg.scale", { speed: MM_PER_S, gain: MM_PER_MV })}</span>
        <div className="tool-group">
          <button type="button" className="tool" aria-label={t("viewer.zoomOut")} title={t("viewer.zoomOut")} onClick={() => zoomTo(zoom / 1.5)} disabled={zoom <= 1}>
            <ViewerIcon name="zoomOut" />
          </button>
          <button type="button" className="tool" aria-label={t("viewer.zoomIn")} title={t("viewer.zoomIn")} onClick={() => zoomTo(zoom * 1.5)} disabled={zoom >= MAX_ZOOM}>
            <ViewerIcon name="zoomIn" />
          </button>
          <button type="button" className="tool" aria-label={t("viewer.reset")} title={t("viewer.reset")} onClick={() => zoomTo(1)}>
            <ViewerIcon name="reset" />
          </button>
        </div>
      </div>
      <div
        className="ecg-paper"
        ref={scroller}
        tabIndex={0}
        onPointerDown={onPointer}
        onPointerMove={onPointer}
        onPointerUp={onPointer}
        onPointerCancel={onPointer}
      >
        <canvas ref={canvas} role="img" aria-label={t("ecg.label", { leads: Object.keys(leadChannels(group)).join(", ") })} />
      </div>
    </div>
  );
}

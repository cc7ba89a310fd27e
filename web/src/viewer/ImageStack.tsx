//! The image viewport of a series: stack scrolling (wheel, drag, touch, keys, slider), window/
//! level by drag and presets, zoom and pan (pinch, wheel, drag), cine, annotations (length,
//! arrow, ellipse, text; saved to the study, sent as a key image), redaction boxes (drawn on a
//! frame, previewed black, applied to the whole instance by the server), reset, and the overlay
//! of study information. Drawing happens outside React, once per frame.

import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent, type WheelEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { Series, StudyDetail } from "../types";
import { FrameLoader, type LoadedFrame } from "./frames";
import { FIT, panBy, pinch, scrollIndex, toCanvas, toImage, transformOf, zoomAt, type Point, type View } from "./geometry";
import { dragWindow, type VoiFunction, type Window } from "./lut";
import { ownWindow, Painter } from "./paint";
import { lengthText } from "./annotate/draw";
import { AnnotateBar, TextInput, type Annotating } from "./annotate/AnnotateBar";
import { frameKey, hitTest, shapeFromDrag, textAt as placeText, type Shape } from "../state/annotations";
import { CT_PRESETS, hasHuPresets, type PresetKey } from "./presets";
import { isCine, startIndex, type StackItem } from "./stack";
import { ViewerIcon } from "./icons";
import { studyDateLabel } from "../state/study";
import { useSharedView } from "../call/useSharedView";
import { session } from "../session";
import type { ViewState } from "../state/sharedView";
import { RedactionBar } from "./RedactionBar";
import { boxBetween, MAX_BOXES, type Area } from "./redaction";

type Tool = "scroll" | "window" | "pan" | "measure" | "arrow" | "ellipse" | "text" | "redact";
const TOOLS: { tool: Tool; label: MessageKey }[] = [
  { tool: "scroll", label: "viewer.tool.scroll" },
  { tool: "window", label: "viewer.tool.window" },
  { tool: "pan", label: "viewer.tool.pan" },
  { tool: "measure", label: "viewer.tool.measure" },
  { tool: "arrow", label: "viewer.tool.arrow" },
  { tool: "ellipse", label: "viewer.tool.ellipse" },
  { tool: "text", label: "viewer.tool.text" },
  { tool: "redact", label: "viewer.tool.redact" },
];
/** The shape a drag draws with each drawing tool. */
const DRAWS: Partial<Record<Tool, "length" | "arrow" | "ellipse">> = { measure: "length", arrow: "arrow", ellipse: "ellipse" };
const FPS = [5, 10, 15, 20, 30];

interface Drag {
  tool: Tool | "zoom";
  start: Point;
  index: number;
  window: Window;
  view: View;
  /** where a drawing drag started (image pixels) */
  anchor?: Point;
  shape?: Shape | null;
  /** a redaction box being drawn, in image coordinates */
  box?: { a: Point; b: Point };
}

export function ImageStack(props: {
  study: StudyDetail;
  series: Series;
  items: StackItem[];
  /** the first frame, already requested when the study was tapped */
  seed?: { index: number; frame: Promise<LoadedFrame> } | null;
  onFirstImage?: () => void;
  /** set here: the view as it is now, for "share in call" */
  shareRef?: { current: (() => ViewState) | null };
  /** an instance was redacted: the series must be listed again */
  onRedacted?: () => void;
  /** stored annotations by frame (`frameKey`), and what saving and sending do */
  annotating?: Annotating;
  /** open at this frame (a key image) */
  startAt?: { sop: string; frame: number } | null;
  /** comparing: the view to take from the linked pane, what this one shows, and that the user touched it */
  follow?: ViewState | null;
  onView?: (view: ViewState, count: number) => void;
  onActive?: () => void;
  /** comparing: fewer tools (no annotations, no cine) */
  compact?: boolean;
}) {
  const { study, series, items, onFirstImage, annotating, startAt, compact } = props;
  const onViewRef = useRef(props.onView);
  onViewRef.current = props.onView;
  const onActive = () => props.onActive?.();
  const seed = useRef(props.seed ?? null);
  const { t, lang } = useI18n();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const painter = useRef<Painter | null>(null);
  const loader = useRef<FrameLoader | null>(null);
  const startAtIndex = startAt ? items.findIndex((x) => x.sop === startAt.sop && x.frame === startAt.frame) : -1;
  const indexRef = useRef(startAtIndex >= 0 ? startAtIndex : startIndex(items));
  const viewRef = useRef<View>(FIT);
  const windowRef = useRef<{ window: Window; fn: VoiFunction } | null>(null);
  /** redaction boxes by instance (they apply to every frame of it) */
  const boxes = useRef(new Map<string, Area[]>());
  const [boxCount, setBoxCount] = useState(0);
  // Shapes drawn here and not yet saved, by frame; the selected one (a tap on it) can be removed.
  const drawn = useRef(new Map<string, Shape[]>());
  const [selected, setSelected] = useState(-1);
  const selectedRef = useRef(-1);
  selectedRef.current = selected;
  const [textAt, setTextAt] = useState<Point | null>(null);
  const savedRef = useRef(annotating?.saved);
  savedRef.current = annotating?.saved;
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const keyOf = (i: number) => {
    const item = itemsRef.current[i];
    return item ? frameKey(item.sop, item.frame) : "";
  };
  const savedShapes = (i: number) => savedRef.current?.get(keyOf(i)) ?? [];
  const drawnShapes = (i: number) => drawn.current.get(keyOf(i)) ?? [];
  const drag = useRef<Drag | null>(null);
  const pointers = useRef(new Map<number, Point>());
  const frameQueued = useRef(0);
  const opened = useRef(performance.now());
  const firstShown = useRef(false);

  const [index, setIndex] = useState(indexRef.current);
  const [tool, setTool] = useState<Tool>("scroll");
  const [shownWindow, setShownWindow] = useState<Window | null>(null);
  const [zoom, setZoom] = useState(1);
  const [loaded, setLoaded] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [fps, setFps] = useState(isCine(items) ? 15 : 10);
  const [preset, setPreset] = useState<PresetKey | "custom">("own");
  const [failed, setFailed] = useState(false);
  const [, setMeasured] = useState(0);
  const [info, setInfo] = useState<LoadedFrame | null>(null);
  // Shared view (during a call): the leader's view goes out as it is drawn; a follower's viewer
  // applies the leader's and shows their pointer.
  const shared = useSharedView({ kind: "study", id: study.id });
  const leading = useRef(false);
  leading.current = shared.role === "leader";
  const remotePointer = useRef<{ x: number; y: number } | null>(null);
  const pointerDot = useRef<HTMLDivElement>(null);

  const modality = series.modality ?? study.modalities[0] ?? "";
  const frameInfo = info?.kind === "raw" ? info.info : null;
  const huPresets = hasHuPresets(modality, frameInfo?.rescale_type);
  const spacing = frameInfo?.pixel_spacing_mm ?? null;

  const currentWindow = useCallback((frame: LoadedFrame | undefined) => {
    if (windowRef.current) return windowRef.current;
    if (frame?.kind === "raw") return ownWindow(frame.info);
    return { window: { center: 0, width: 1 }, fn: "Linear" as VoiFunction };
  }, []);

  const draw = useCallback(() => {
    frameQueued.current = 0;
    const canvas = canvasRef.current;
    const frame = loader.current?.get(indexRef.current);
    if (!canvas) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    const ctx = canvas.getContext("2d", { alpha: false });
    if (!ctx) return;
    if (!frame) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, w, h);
      return;
    }
    painter.current ??= new Painter();
    const size = frame.kind === "raw" ? { width: frame.info.columns, height: frame.info.rows } : frame;
    const sp = frame.kind === "raw" ? frame.info.pixel_spacing_mm : null;
    const tr = transformOf(viewRef.current, size, { width: canvas.clientWidth, height: canvas.clientHeight }, sp);
    const { window: win, fn } = currentWindow(frame);
    const saved = savedShapes(indexRef.current);
    const all = [...saved, ...drawnShapes(indexRef.current)];
    if (drag.current?.shape) all.push(drag.current.shape);
    const sel = selectedRef.current >= 0 ? saved.length + selectedRef.current : -1;
        const shownBoxes = [...(boxes.current.get(items[indexRef.current]?.sop ?? "") ?? [])];
    const pending = drag.current?.box && boxBetween(drag.current.box.a, drag.current.box.b, size);
    if (pending) shownBoxes.push(pending);
    painter.current.paint(ctx, dpr, tr, indexRef.current, frame, win, fn, all, sp, sel, shownBoxes);
    canvas.dataset.index = String(indexRef.current);
    const dot = pointerDot.current;
    const rp = remotePointer.current;
    if (dot) {
      const at = rp ? toCanvas(tr, { x: rp.x * size.width, y: rp.y * size.height }) : null;
      dot.style.display = at ? "block" : "none";
      if (at) dot.style.transform = `translate(${at.x}px, ${at.y}px)`;
    }
    if (leading.current) session.calls.shareState(viewStateOf(tr));
    onViewRef.current?.(viewStateOf(tr), itemsRef.current.length);
    if (!firstShown.current) {
      firstShown.current = true;
      // From the tap that opened the study (or this series) to its first image on screen.
      const start = performance.getEntriesByName("renkei:viewer-open").at(-1)?.startTime ?? opened.current;
      performance.clearMarks("renkei:viewer-open");
      performance.measure("renkei:viewer-first-image", { start, end: performance.now() });
      onFirstImage?.();
    }
  }, [currentWindow, onFirstImage, items]);

  /** The view as the shared view sends it: pan in image pixels, so any screen size agrees. */
  const viewStateOf = (tr: { sx: number; sy: number }): ViewState => {
    const win = windowRef.current?.window ?? null;
    const frame = loader.current?.get(indexRef.current);
    const own = frame?.kind === "raw" ? ownWindow(frame.info).window : null;
    const w = win ?? own;
    return {
      series_uid: series.series_uid,
      slice: indexRef.current,
      ...(w ? { window_center: w.center, window_width: w.width } : {}),
      zoom: viewRef.current.zoom,
      pan_x: viewRef.current.panX / tr.sx,
      pan_y: viewRef.current.panY / tr.sy,
    };
  };

  const requestDraw = useCallback(() => {
    if (!frameQueued.current) frameQueued.current = requestAnimationFrame(draw);
  }, [draw]);

  /** Everything the overlay shows about the frame on screen. */
  const sync = useCallback(() => {
    const frame = loader.current?.get(indexRef.current);
    setIndex(indexRef.current);
    setZoom(viewRef.current.zoom);
    setInfo(frame ?? null);
    setShownWindow(frame?.kind === "raw" ? currentWindow(frame).window : null);
  }, [currentWindow]);

  // One loader per series: frames nearest the one on screen first.
  useEffect(() => {
    opened.current = performance.now();
    firstShown.current = false;
    const l = new FrameLoader(
      study.id,
      items,
      (i) => {
        setLoaded(l.loadedCount);
        if (i === indexRef.current) {
          sync();
          requestDraw();
        }
      },
      (i) => {
        if (i === indexRef.current) setFailed(true);
      },
      4,
      seed.current?.index === indexRef.current ? seed.current : null,
    );
    seed.current = null;
    loader.current = l;
    l.focus(indexRef.current);
    return () => l.dispose();
  }, [study.id, items, sync, requestDraw]);

  // Redraw when the viewport changes size.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const observer = new ResizeObserver(() => requestDraw());
    observer.observe(canvas);
    return () => observer.disconnect();
  }, [requestDraw]);

  const go = useCallback(
    (next: number) => {
      const i = Math.min(items.length - 1, Math.max(0, next));
      if (i === indexRef.current) return;
      indexRef.current = i;
      setSelected(-1);
      setTextAt(null);
      setFailed(loader.current?.hasFailed(i) ?? false);
      loader.current?.focus(i);
      sync();
      requestDraw();
    },
    [items.length, sync, requestDraw],
  );

  // A key image opened after the series: go to its frame.
  useEffect(() => {
    if (startAtIndex >= 0) go(startAtIndex);
  }, [startAtIndex, go]);

  // Stored annotations arrived or changed: draw them.
  useEffect(() => requestDraw(), [annotating?.saved, requestDraw]);

  // Cine: advance at the chosen rate, waiting for frames that are still loading.
  useEffect(() => {
    if (!playing) return;
    const timer = setInterval(() => {
      const next = (indexRef.current + 1) % items.length;
      if (loader.current?.get(next)) go(next);
      else loader.current?.focus(next);
    }, 1000 / fps);
    return () => clearInterval(timer);
  }, [playing, fps, items.length, go]);

  const setWindow = (w: { window: Window; fn: VoiFunction } | null, key: PresetKey | "custom") => {
    windowRef.current = w;
    setPreset(key);
    sync();
    requestDraw();
  };

  // Following the leader: their slice, window, zoom and pan, and their pointer.
  const followed = shared.role === "follower" ? shared.view?.state : (props.follow ?? undefined);
  useEffect(() => {
    if (!followed) {
      remotePointer.current = null;
      requestDraw();
      return;
    }
    if (followed.series_uid && followed.series_uid !== series.series_uid) return;
    if (typeof followed.slice === "number") go(followed.slice);
    if (typeof followed.window_center === "number" && typeof followed.window_width === "number") {
      windowRef.current = { window: { center: followed.window_center, width: followed.window_width }, fn: "Linear" };
      setPreset("custom");
    }
    if (typeof followed.zoom === "number") {
      const zoomed = { zoom: followed.zoom, panX: 0, panY: 0 };
      viewRef.current = zoomed;
      const tr = transformNow();
      viewRef.current = tr ? { ...zoomed, panX: (followed.pan_x ?? 0) * tr.sx, panY: (followed.pan_y ?? 0) * tr.sy } : zoomed;
    }
    remotePointer.current = followed.pointer ?? null;
    sync();
    requestDraw();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [followed, series.series_uid, go, sync, requestDraw]);

  if (props.shareRef) {
    props.shareRef.current = () => {
      const tr = transformNow();
      return tr ? viewStateOf(tr) : { series_uid: series.series_uid, slice: indexRef.current };
    };
  }

  const choosePreset = (key: string) => {
    if (key === "own") return setWindow(null, "own");
    const p = CT_PRESETS.find((x) => x.key === key);
    if (p) setWindow({ window: p.window, fn: "Linear" }, p.key);
  };

  const reset = () => {
    viewRef.current = FIT;
    windowRef.current = null;
    setSelected(-1);
    setPreset("own");
    setMeasured(0);
    setPlaying(false);
    sync();
    requestDraw();
  };

  const zoomBy = (factor: number) => {
    const c = canvasRef.current;
    if (!c) return;
    const size = { width: c.clientWidth, height: c.clientHeight };
    viewRef.current = zoomAt(viewRef.current, factor, { x: size.width / 2, y: size.height / 2 }, size);
    sync();
    requestDraw();
  };

  // ---- pointer input ----
  const local = (e: { clientX: number; clientY: number }): Point => {
    const r = canvasRef.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  function transformNow() {
    const c = canvasRef.current;
    if (!c) return null;
    const frame = loader.current?.get(indexRef.current);
    if (!frame) return null;
    const size = frame.kind === "raw" ? { width: frame.info.columns, height: frame.info.rows } : frame;
    const sp = frame.kind === "raw" ? frame.info.pixel_spacing_mm : null;
    return transformOf(viewRef.current, size, { width: c.clientWidth, height: c.clientHeight }, sp);
  }

  function imageSize() {
    const frame = loader.current?.get(indexRef.current);
    if (!frame) return null;
    return frame.kind === "raw" ? { width: frame.info.columns, height: frame.info.rows } : { width: frame.width, height: frame.height };
  }

  /** Adds the typed text where the text tool was tapped. */
  const addText = (text: string) => {
    const size = imageSize();
    const shape = textAt && size ? placeText(textAt, text, size) : null;
    setTextAt(null);
    if (!shape) return;
    const key = keyOf(indexRef.current);
    drawn.current.set(key, [...(drawn.current.get(key) ?? []), shape]);
    setMeasured((n) => n + 1);
    requestDraw();
  };

  const removeSelected = () => {
    const key = keyOf(indexRef.current);
    drawn.current.set(key, drawnShapes(indexRef.current).filter((_, i) => i !== selectedRef.current));
    setSelected(-1);
    setMeasured((n) => n + 1);
    requestDraw();
  };

  /** What is drawn and unsaved on the frame on screen is saved; answers the frame's presentation state. */
  const saveFrame = async (): Promise<string | null> => {
    const i = indexRef.current;
    const item = items[i];
    const shapes = drawnShapes(i);
    if (!item || !annotating) return null;
    if (!shapes.length) return annotating.presentationOf(keyOf(i));
    const saved = await annotating.save(item.sop, item.frame, shapes);
    drawn.current.delete(keyOf(i));
    setSelected(-1);
    setMeasured((n) => n + 1);
    requestDraw();
    return saved;
  };

  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    onActive();
    const p = local(e);
    e.currentTarget.setPointerCapture(e.pointerId);
    pointers.current.set(e.pointerId, p);
    if (pointers.current.size > 1) {
      drag.current = null; // two fingers: pinch instead of the tool
      return;
    }
    const frame = loader.current?.get(indexRef.current);
    const active: Drag["tool"] = e.button === 1 ? "pan" : e.button === 2 ? "zoom" : tool;
    const d: Drag = { tool: active, start: p, index: indexRef.current, window: currentWindow(frame).window, view: viewRef.current };
    if (DRAWS[active as Tool] || active === "text") {
      const tr = transformNow();
      if (!tr) return;
      d.anchor = toImage(tr, p);
    } else if (active === "redact") {
      const tr = transformNow();
      if (!tr) return;
      const a = toImage(tr, p);
      d.box = { a, b: a };
    }
    drag.current = d;
  };

  /** The leader's pointer, in image coordinates 0..1, for the others' pointer dot. */
  const sharePointer = (e: PointerEvent<HTMLCanvasElement> | null) => {
    if (!leading.current) return;
    const tr = e ? transformNow() : null;
    const frame = loader.current?.get(indexRef.current);
    if (!e || !tr || !frame) return session.calls.shareState({ pointer: null });
    const size = frame.kind === "raw" ? { width: frame.info.columns, height: frame.info.rows } : frame;
    const p = toImage(tr, local(e));
    const x = p.x / size.width;
    const y = p.y / size.height;
    session.calls.shareState({ pointer: x >= 0 && x <= 1 && y >= 0 && y <= 1 ? { x, y } : null });
  };

  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    sharePointer(e);
    if (!pointers.current.has(e.pointerId)) return;
    const p = local(e);
    const c = canvasRef.current!;
    const size = { width: c.clientWidth, height: c.clientHeight };
    if (pointers.current.size === 2) {
      const ids = [...pointers.current.keys()];
      const before = ids.map((id) => pointers.current.get(id)!) as [Point, Point];
      pointers.current.set(e.pointerId, p);
      const after = ids.map((id) => pointers.current.get(id)!) as [Point, Point];
      viewRef.current = pinch(viewRef.current, before, after, size);
      setZoom(viewRef.current.zoom);
      requestDraw();
      return;
    }
    pointers.current.set(e.pointerId, p);
    const d = drag.current;
    if (!d) return;
    const dx = p.x - d.start.x;
    const dy = p.y - d.start.y;
    switch (d.tool) {
      case "scroll":
        go(scrollIndex(d.index, dy, items.length, Math.max(2, Math.min(8, size.height / items.length))));
        return;
      case "window": {
        const frame = loader.current?.get(indexRef.current);
        if (frame?.kind !== "raw") return;
        const range = frame.info.max_value - frame.info.min_value;
        windowRef.current = { window: dragWindow(d.window, dx, dy, range), fn: "Linear" };
        setPreset("custom");
        setShownWindow(windowRef.current.window);
        requestDraw();
        return;
      }
      case "pan":
        viewRef.current = panBy(d.view, dx, dy);
        requestDraw();
        return;
      case "zoom":
        viewRef.current = zoomAt(d.view, Math.exp(-dy / 150), d.start, size);
        setZoom(viewRef.current.zoom);
        requestDraw();
        return;
      case "measure":
      case "arrow":
      case "ellipse": {
        const tr = transformNow();
        const size = imageSize();
        const kind = DRAWS[d.tool];
        if (!tr || !d.anchor || !size || !kind) return;
        d.shape = shapeFromDrag(kind, d.anchor, toImage(tr, p), size, tr.sx);
        requestDraw();
        return;
      }
      case "redact": {
        const tr = transformNow();
        if (!tr || !d.box) return;
        d.box = { a: d.box.a, b: toImage(tr, p) };
        requestDraw();
        return;
      }
    }
  };

  const onPointerUp = (e: PointerEvent<HTMLCanvasElement>) => {
    pointers.current.delete(e.pointerId);
    const d = drag.current;
    drag.current = null;
    if (d?.anchor) {
      const key = keyOf(indexRef.current);
      const mine = drawn.current.get(key) ?? [];
      if (d.shape) {
        drawn.current.set(key, [...mine, d.shape]);
        setSelected(-1);
        setMeasured((n) => n + 1);
      } else {
        // A tap: on a shape drawn here, selects it; with the text tool elsewhere, places text.
        const tr = transformNow();
        const hit = tr ? hitTest(mine, [d.anchor.x, d.anchor.y], 8 / tr.sx, (s) => ({ width: s.kind === "text" ? (s.text.length * 9) / tr.sx : 0, height: 14 / tr.sx })) : -1;
        setSelected(hit);
        if (hit < 0 && d.tool === "text") setTextAt(d.anchor);
      }
      requestDraw();
    }
    const frame = loader.current?.get(indexRef.current);
    if (d?.tool === "redact" && d.box && frame) {
      const size = frame.kind === "raw" ? { width: frame.info.columns, height: frame.info.rows } : frame;
      const box = boxBetween(d.box.a, d.box.b, size);
      const sop = items[indexRef.current]?.sop;
      const list = sop ? (boxes.current.get(sop) ?? []) : [];
      if (box && sop && list.length < MAX_BOXES) {
        boxes.current.set(sop, [...list, box]);
        setBoxCount(boxes.current.get(sop)?.length ?? 0);
      }
      requestDraw();
    }
  };

  /** Forgets the boxes drawn on the instance on screen. */
  const clearBoxes = () => {
    const sop = items[indexRef.current]?.sop;
    if (sop) boxes.current.delete(sop);
    setBoxCount(0);
    requestDraw();
  };

  const onWheel = (e: WheelEvent<HTMLCanvasElement>) => {
    onActive();
    if (e.ctrlKey || e.metaKey) {
      const c = canvasRef.current!;
      viewRef.current = zoomAt(viewRef.current, Math.exp(-e.deltaY / 200), local(e), { width: c.clientWidth, height: c.clientHeight });
      setZoom(viewRef.current.zoom);
      requestDraw();
      return;
    }
    if (e.deltaY !== 0) go(indexRef.current + Math.sign(e.deltaY));
  };

  // The canvas takes wheel events without the page scrolling or zooming.
  useEffect(() => {
    const c = canvasRef.current;
    if (!c) return;
    const stop = (e: globalThis.WheelEvent) => e.preventDefault();
    c.addEventListener("wheel", stop, { passive: false });
    return () => c.removeEventListener("wheel", stop);
  }, []);

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    onActive();
    const keys: Record<string, () => void> = {
      ArrowDown: () => go(indexRef.current + 1),
      ArrowRight: () => go(indexRef.current + 1),
      ArrowUp: () => go(indexRef.current - 1),
      ArrowLeft: () => go(indexRef.current - 1),
      PageDown: () => go(indexRef.current + 10),
      PageUp: () => go(indexRef.current - 10),
      Home: () => go(0),
      End: () => go(items.length - 1),
      "+": () => zoomBy(1.25),
      "=": () => zoomBy(1.25),
      "-": () => zoomBy(0.8),
      r: reset,
    };
    const action = keys[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  };

  const presetOptions = useMemo(
    () => [{ key: "own", label: t("viewer.preset.own") }, ...(huPresets ? CT_PRESETS.map((p) => ({ key: p.key, label: t(`viewer.preset.${p.key}` as MessageKey) })) : [])],
    [huPresets, t],
  );
  const multi = items.length > 1;
  const sopOnScreen = items[index]?.sop ?? "";
  const shownBoxCount = boxCount >= 0 ? (boxes.current.get(sopOnScreen)?.length ?? 0) : 0;
  // The newest measurement on the slice on screen (measurements belong to their slice).
  const lastLine = [...savedShapes(index), ...drawnShapes(index)].filter((s) => s.kind === "length").at(-1);
  const readout = lastLine?.kind === "length" ? lengthText(lastLine.from, lastLine.to, spacing) : "";
  const unsaved = drawnShapes(index).length;
  const annotated = unsaved > 0 || savedShapes(index).length > 0;
  const windowText = shownWindow ? t("viewer.wl", { w: Math.round(shownWindow.width), l: Math.round(shownWindow.center) }) : "";
  const position = t(isCine(items) ? "viewer.framePosition" : "viewer.position", { n: index + 1, of: items.length });

  return (
    <div className="stack">
      <div className="viewport" tabIndex={0} onKeyDown={onKey} aria-label={t("viewer.viewportLabel", { position })} role="group">
        <canvas
          ref={canvasRef}
          className={`viewport-canvas tool-${tool}`}
          role="img"
          aria-label={`${modality} ${series.description ?? ""} — ${position}`}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
          onPointerLeave={() => sharePointer(null)}
          onWheel={onWheel}
          onContextMenu={(e) => e.preventDefault()}
        />
        <div className="share-pointer" ref={pointerDot} aria-hidden="true" style={{ left: 0, top: 0 }} />
        <div className="overlay top-left" aria-hidden="true">
          <span className="overlay-strong">{[modality, series.body_part ?? study.body_part].filter(Boolean).join(" · ")}</span>
          {study.description && <span>{study.description}</span>}
          {series.description && <span>{series.description}</span>}
        </div>
        <div className="overlay top-right">
          <span className="overlay-strong">{t("study.patientTail", { tail: study.patient_tail })}</span>
          {study.study_date && <span>{studyDateLabel(study.study_date, lang)}</span>}
        </div>
        <div className="overlay bottom-left" aria-live="polite">
          <span>{position}</span>
          {windowText && <span className="wl-readout">{windowText}</span>}
          {zoom !== 1 && <span>{t("viewer.zoom", { z: zoom.toFixed(1) })}</span>}
        </div>
        <div className="overlay bottom-right" aria-live="polite">
          {readout && <span className="measure-readout">{t("viewer.measured", { length: readout })}</span>}
          {loaded < items.length && !failed && <span>{t("viewer.loading", { n: loaded, of: items.length })}</span>}
          {spacing === null && frameInfo && <span>{t("viewer.noSpacing")}</span>}
        </div>
        {!info && !failed && <div className="viewport-status" role="status">{t("common.loading")}</div>}
        {failed && <div className="viewport-status error" role="alert">{t("viewer.frameFailed")}</div>}
        {textAt && <TextInput onDone={addText} />}
      </div>
      {multi && (
        <input
          className="slice-slider"
          type="range"
          min={1}
          max={items.length}
          value={index + 1}
          aria-label={t("viewer.slider")}
          aria-valuetext={position}
          onChange={(e) => {
            onActive();
            go(Number(e.target.value) - 1);
          }}
        />
      )}
      {tool === "redact" && (
        <RedactionBar
          study={study.id}
          sop={sopOnScreen}
          boxes={boxes.current.get(sopOnScreen) ?? []}
          count={shownBoxCount}
          onClear={clearBoxes}
          onApplied={() => {
            boxes.current.delete(sopOnScreen);
            setBoxCount(0);
            props.onRedacted?.();
          }}
        />
      )}
      {annotating && !compact && (annotated || selected >= 0 || DRAWS[tool] || tool === "text") && (
        <AnnotateBar unsaved={unsaved} annotated={annotated} selected={selected >= 0} onRemove={removeSelected} onSave={saveFrame} onSend={async () => {
          const presentation = await saveFrame();
          const item = items[indexRef.current];
          if (item) annotating.send(item.sop, item.frame, presentation);
        }} />
      )}
      <div className="viewer-tools" role="toolbar" aria-label={t("viewer.tools")}>
        <div className="tool-group">
          {TOOLS.filter(({ tool: key }) => !compact || key === "scroll" || key === "window" || key === "pan").map(({ tool: key, label }) => (
            <button
              key={key}
              type="button"
              className={`tool ${tool === key ? "on" : ""}`}
              aria-pressed={tool === key}
              aria-label={t(label)}
              title={t(label)}
              onClick={() => setTool(key)}
            >
              <ViewerIcon name={key} />
              <span className="tool-label">{t(label)}</span>
            </button>
          ))}
        </div>
        <div className="tool-group">
          <label className="preset">
            <span className="visually-hidden">{t("viewer.preset")}</span>
            <select value={preset} onChange={(e) => { onActive(); choosePreset(e.target.value); }} disabled={!frameInfo}>
              {preset === "custom" && <option value="custom">{t("viewer.preset.custom")}</option>}
              {presetOptions.map((o) => (
                <option key={o.key} value={o.key}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          {multi && !compact && (
            <>
              <button
                type="button"
                className={`tool ${playing ? "on" : ""}`}
                aria-pressed={playing}
                aria-label={playing ? t("viewer.pause") : t("viewer.play")}
                title={playing ? t("viewer.pause") : t("viewer.play")}
                onClick={() => setPlaying(!playing)}
              >
                <ViewerIcon name={playing ? "pause" : "play"} />
              </button>
              <label className="fps">
                <span className="visually-hidden">{t("viewer.fps")}</span>
                <select value={fps} onChange={(e) => setFps(Number(e.target.value))}>
                  {FPS.map((f) => (
                    <option key={f} value={f}>
                      {t("viewer.fpsValue", { n: f })}
                    </option>
                  ))}
                </select>
              </label>
            </>
          )}
          <button type="button" className="tool" aria-label={t("viewer.reset")} title={t("viewer.reset")} onClick={() => { onActive(); reset(); }}>
            <ViewerIcon name="reset" />
          </button>
        </div>
      </div>
    </div>
  );
}


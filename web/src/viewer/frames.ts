//! Loads a stack's frames: raw 16-bit samples for client-side windowing (or, for colour frames,
//! the server's rendering), a few at a time, nearest to the frame on screen first. Frames live
//! in memory only and are dropped with the loader.

import { ApiError, getBinary, studyUrls } from "../api";
import type { Uuid } from "../types";
import type { FrameInfo } from "./wire";
import { prefetchOrder, type StackItem } from "./stack";

export type LoadedFrame =
  | { kind: "raw"; info: FrameInfo; samples: Int16Array | Uint16Array }
  | { kind: "bitmap"; bitmap: ImageBitmap; width: number; height: number };

/** Parses a raw frame answer: the X-Frame-Info header and rows × columns samples. */
export function parseRaw(infoHeader: string | null, buffer: ArrayBuffer): { info: FrameInfo; samples: Int16Array | Uint16Array } {
  if (!infoHeader) throw new Error("raw frame without X-Frame-Info");
  const info = JSON.parse(infoHeader) as FrameInfo;
  const n = info.rows * info.columns;
  if (buffer.byteLength < n * 2) throw new Error("raw frame shorter than rows × columns");
  const samples = info.sample_type === "int16" ? new Int16Array(buffer, 0, n) : new Uint16Array(buffer, 0, n);
  return { info, samples };
}

/** Frames the raw endpoint cannot give (colour, > 16 bits) come rendered by the server. */
const RENDER_INSTEAD = new Set(["dicom_not_monochrome", "dicom_unsupported_pixel_format"]);

export async function loadFrame(study: Uuid, item: StackItem, signal: AbortSignal): Promise<LoadedFrame> {
  try {
    const res = await getBinary(studyUrls.raw(study, item.sop, item.frame), signal);
    const { info, samples } = parseRaw(res.headers.get("x-frame-info"), await res.arrayBuffer());
    return { kind: "raw", info, samples };
  } catch (e) {
    if (!(e instanceof ApiError) || !RENDER_INSTEAD.has(e.code)) throw e;
  }
  const res = await getBinary(studyUrls.rendered(study, item.sop, item.frame), signal);
  const bitmap = await createImageBitmap(await res.blob());
  return { kind: "bitmap", bitmap, width: bitmap.width, height: bitmap.height };
}

export class FrameLoader {
  private frames = new Map<number, LoadedFrame>();
  private failed = new Set<number>();
  private inflight = new Set<number>();
  private center = 0;
  private direction: 1 | -1 = 1;
  private abort = new AbortController();

  constructor(
    private study: Uuid,
    private items: StackItem[],
    private onLoaded: (index: number) => void,
    private onError: (index: number, error: unknown) => void,
    private concurrency = 4,
    /** A frame already on its way (requested when the study was tapped). */
    private seed: { index: number; frame: Promise<LoadedFrame> } | null = null,
  ) {}

  get(index: number): LoadedFrame | undefined {
    return this.frames.get(index);
  }

  hasFailed(index: number): boolean {
    return this.failed.has(index);
  }

  get loadedCount(): number {
    return this.frames.size;
  }

  /** The frame on screen moved: load around it, nearest first. */
  focus(index: number) {
    if (index !== this.center) this.direction = index > this.center ? 1 : -1;
    this.center = index;
    this.pump();
  }

  private pump() {
    if (this.abort.signal.aborted) return;
    const have = (i: number) => this.frames.has(i) || this.inflight.has(i) || this.failed.has(i);
    // The first frame alone, so that nothing competes with what the user is waiting for.
    const limit = this.frames.size === 0 ? 1 : this.concurrency;
    for (const index of prefetchOrder(this.center, this.items.length, have, this.direction)) {
      if (this.inflight.size >= limit) break;
      this.inflight.add(index);
      const seeded = this.seed?.index === index ? this.seed.frame : null;
      this.seed = null;
      (seeded ?? loadFrame(this.study, this.items[index], this.abort.signal)).then(
        (frame) => {
          this.inflight.delete(index);
          if (this.abort.signal.aborted) return;
          this.frames.set(index, frame);
          this.onLoaded(index);
          this.pump();
        },
        (error) => {
          this.inflight.delete(index);
          if (this.abort.signal.aborted) return;
          this.failed.add(index);
          this.onError(index, error);
          // 401/423: the session is gone or locked; stop asking.
          if (!(error instanceof ApiError && (error.status === 401 || error.status === 423))) this.pump();
        },
      );
    }
  }

  dispose() {
    this.abort.abort();
    for (const f of this.frames.values()) if (f.kind === "bitmap") f.bitmap.close();
    this.frames.clear();
  }
}

//! A series as a stack of frames (instances in order, multi-frame instances expanded), and the
//! order in which to prefetch them around the frame on screen.

import type { Instance } from "../types";

export interface StackItem {
  sop: string;
  /** 1-based frame number within the instance */
  frame: number;
  sopClass: string;
}

/** Instances by Instance Number (then UID), each frame of a multi-frame instance in turn. */
export function stackOf(instances: Instance[]): StackItem[] {
  const sorted = [...instances].sort(
    (a, b) =>
      (a.instance_number ?? Number.MAX_SAFE_INTEGER) - (b.instance_number ?? Number.MAX_SAFE_INTEGER) ||
      a.sop_uid.localeCompare(b.sop_uid),
  );
  const items: StackItem[] = [];
  for (const i of sorted) {
    const frames = Math.max(1, i.frames);
    for (let f = 1; f <= frames; f++) items.push({ sop: i.sop_uid, frame: f, sopClass: i.sop_class });
  }
  return items;
}

const WAVEFORM_CLASSES = "1.2.840.10008.5.1.4.1.1.9.";

/** Waveform objects (ECG and friends) are drawn as traces, not images. */
export function isWaveform(sopClass: string): boolean {
  return sopClass.startsWith(WAVEFORM_CLASSES);
}

/**
 * Every index not yet `have`, nearest to `center` first; at equal distance the one ahead (in
 * the direction of travel) comes first.
 */
export function prefetchOrder(center: number, count: number, have: (i: number) => boolean, direction: 1 | -1 = 1): number[] {
  const order: number[] = [];
  for (let d = 0; d < count; d++) {
    const ahead = center + d * direction;
    const behind = center - d * direction;
    if (ahead >= 0 && ahead < count && !have(ahead)) order.push(ahead);
    if (d > 0 && behind >= 0 && behind < count && !have(behind)) order.push(behind);
  }
  return order;
}

/** A stack holding multi-frame instances (an ultrasound cine, an angiography run) plays in time. */
export function isCine(items: StackItem[]): boolean {
  return items.some((item) => item.frame > 1);
}

/**
 * The stack index to start at: the middle of a CT/MR series is where the anatomy is; a cine
 * starts at its first frame, to be played.
 */
export function startIndex(items: StackItem[]): number {
  return items.length > 2 && !isCine(items) ? Math.floor(items.length / 2) : 0;
}

//! Looking at an image together during a call ("shared view"): who leads, what they look at
//! (series, slice, window/level, zoom, pan, pointer), taking over, and the throttle that sends
//! at most 20 frames a second and always the last state. Pure; `call/controller` applies it.

import type { Uuid } from "../types";

export type ViewTarget = { kind: "study" | "media"; id?: Uuid };

/** The leader's view; numbers only, the pointer in image coordinates 0..1 (null: none). */
export interface ViewState {
  series_uid?: string;
  slice?: number;
  window_center?: number;
  window_width?: number;
  zoom?: number;
  pan_x?: number;
  pan_y?: number;
  pointer?: { x: number; y: number } | null;
}

export interface SharedView {
  callId: Uuid;
  leader: Uuid;
  /** this user leads (what the viewer does is sent) */
  leading: boolean;
  target: ViewTarget;
  state: ViewState;
  /** false: this user may not open the target; a notice shows instead of the image */
  allowed: boolean;
}

export interface ViewShareFrame {
  type: "view_share";
  call_id: Uuid;
  from_user: Uuid;
  target: ViewTarget;
  /** absent when not allowed */
  state?: ViewState;
  allowed: boolean;
}

/** A `view_share` from the server: its sender now leads (this user too, when it is an echo). */
export function afterViewShare(frame: ViewShareFrame, me: Uuid): SharedView {
  return {
    callId: frame.call_id,
    leader: frame.from_user,
    leading: frame.from_user === me,
    target: frame.allowed ? frame.target : { kind: frame.target.kind },
    state: frame.allowed ? (frame.state ?? {}) : {},
    allowed: frame.allowed,
  };
}

/** A `view_stop`: the shared view ends when its leader stops it. */
export function afterViewStop(current: SharedView | null, frame: { call_id: Uuid; from_user: Uuid }): SharedView | null {
  if (!current || current.callId !== frame.call_id || current.leader !== frame.from_user) return current;
  return null;
}

/** This user starts sharing, or takes over: they lead from now on, with their own view (and
 * no pointer until theirs moves). */
export function takeOver(current: SharedView | null, callId: Uuid, me: Uuid, target: ViewTarget, state: ViewState): SharedView {
  return { callId, leader: me, leading: true, target, state: { ...(current && current.target.id === target.id ? current.state : {}), pointer: null, ...state }, allowed: true };
}

/** Whether the viewer of `target` follows `view` (someone else leads the same image). */
export function follows(view: SharedView | null, target: ViewTarget): boolean {
  return !!view && !view.leading && view.allowed && view.target.kind === target.kind && view.target.id === target.id;
}

/** What changed between two states the follower should apply (undefined fields are kept). */
export function changedFields(before: ViewState, after: ViewState): (keyof ViewState)[] {
  return (Object.keys(after) as (keyof ViewState)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/** At most 20 frames a second (the server drops more than 25). */
export const SHARE_INTERVAL_MS = 50;

/**
 * Sends at most one value per interval: the first at once, later ones at the end of the
 * interval, and then only the newest (so the last state always goes, and nothing older).
 */
export class Throttle<T> {
  private last = -Infinity;
  private pending: { value: T } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private send: (value: T) => void,
    private interval = SHARE_INTERVAL_MS,
    private now: () => number = () => Date.now(),
  ) {}

  push(value: T): void {
    const wait = this.last + this.interval - this.now();
    if (wait <= 0 && !this.timer) {
      this.last = this.now();
      this.send(value);
      return;
    }
    this.pending = { value };
    if (!this.timer) this.timer = setTimeout(() => this.flush(), Math.max(0, wait));
  }

  /** Sends the pending value now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    this.last = this.now();
    this.send(p.value);
  }

  /** Drops what is pending (the share stopped). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}

//! Comparing two series: which studies may be compared (the same patient tail, seen in the
//! inbox or shared in a loaded conversation), and how a linked pair follows the one the user
//! moves — the slice at the same relative position, the same window, zoom and pan. Pure.

import type { Chat } from "./timelines";
import type { Study, Uuid } from "../types";
import type { ViewState } from "./sharedView";

/** The studies attached to the loaded messages of every chat, in the order first seen. */
export function sharedStudyIds(chats: Record<Uuid, Chat>): Uuid[] {
  const seen = new Set<Uuid>();
  for (const chat of Object.values(chats)) {
    for (const m of chat.messages) for (const a of m.attachments ?? []) if (a.kind === "study") seen.add(a.id);
  }
  return [...seen];
}

/**
 * The other studies `current` may be compared with: the same organization and patient tail,
 * not expired; newest first (by study date, then arrival). A tail is a few digits, so the
 * picker shows date and description for the user to confirm.
 */
export function priorCandidates(current: Study, known: Study[]): Study[] {
  const seen = new Set<Uuid>([current.id]);
  const out: Study[] = [];
  for (const s of known) {
    if (seen.has(s.id) || s.expired || s.org_id !== current.org_id || !s.patient_tail || s.patient_tail !== current.patient_tail) continue;
    seen.add(s.id);
    out.push(s);
  }
  return out.sort((a, b) => (b.study_date ?? "").localeCompare(a.study_date ?? "") || b.created_at.localeCompare(a.created_at));
}

/** The slice of a stack of `to` images at the same relative position as `index` of `from`. */
export function linkedSlice(index: number, from: number, to: number): number {
  if (to <= 1 || from <= 1) return 0;
  return Math.min(to - 1, Math.max(0, Math.round((index / (from - 1)) * (to - 1))));
}

/**
 * What the other pane of a linked pair shows when one moves: its own series, the slice at the
 * same relative position, and the same window, zoom and pan (pan in image pixels); the pointer
 * is not linked.
 */
export function linkedView(moved: ViewState, fromCount: number, toCount: number): ViewState {
  const out: ViewState = {};
  if (typeof moved.slice === "number") out.slice = linkedSlice(moved.slice, fromCount, toCount);
  if (typeof moved.window_center === "number" && typeof moved.window_width === "number") {
    out.window_center = moved.window_center;
    out.window_width = moved.window_width;
  }
  if (typeof moved.zoom === "number") {
    out.zoom = moved.zoom;
    out.pan_x = moved.pan_x ?? 0;
    out.pan_y = moved.pan_y ?? 0;
  }
  return out;
}

/** Whether two view states show the same thing (a pane need not be told again). */
export function sameView(a: ViewState | null, b: ViewState): boolean {
  if (!a) return false;
  const keys: (keyof ViewState)[] = ["slice", "window_center", "window_width", "zoom", "pan_x", "pan_y"];
  return keys.every((k) => a[k] === b[k]);
}

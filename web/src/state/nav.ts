//! Which full-screen view is open over the app (the study viewer, a photo), kept in memory
//! only and tied to the browser's back button.

import { useSyncExternalStore } from "react";
import type { Media, Uuid } from "../types";
import { startOpening, type Opening } from "../viewer/opening";

/** The viewer's chunk; fetched ahead when a study card is on screen. */
export const loadViewer = () => import("../viewer/StudyViewer");
let viewerRequested = false;
export function preloadViewer() {
  if (viewerRequested) return;
  viewerRequested = true;
  void loadViewer().catch(() => (viewerRequested = false));
}

/** The study being opened, requested at the tap (while the viewer's chunk loads). */
let opening: Opening | null = null;
export function takeOpening(id: Uuid): Opening | null {
  const o = opening;
  opening = null;
  return o && o.id === id ? o : null;
}

/** The study viewer (at a key image's frame), or a photo. */
export type Overlay = { kind: "study"; id: Uuid; at?: { sop: string; frame: number } } | { kind: "media"; media: Media } | null;

let overlay: Overlay = null;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

export const nav = {
  get: () => overlay,
  subscribe(l: () => void) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  /** Opens a view; the back button closes it. */
  open(next: Exclude<Overlay, null>) {
    // The viewer measures its first image from here (performance entries stay in memory).
    if (next.kind === "study") {
      if (typeof performance !== "undefined") performance.mark("renkei:viewer-open");
      opening = startOpening(next.id);
    }
    if (!overlay && typeof history !== "undefined") history.pushState({ overlay: true }, "");
    overlay = next;
    emit();
  },
  /** Closed by the back button (the history entry is already gone). */
  popped(): boolean {
    if (!overlay) return false;
    overlay = null;
    emit();
    return true;
  },
  /** Closed by the user (a close button, Escape): go back past the entry `open` added. */
  close() {
    if (!overlay) return;
    history.back();
  },
  /** Locking or signing out: forget without touching history. */
  reset() {
    overlay = null;
    opening = null;
    emit();
  },
};

export function useOverlay(): Overlay {
  return useSyncExternalStore(nav.subscribe, nav.get);
}

// Keeps the timeline where the reader is while its content changes size: at the bottom for
// new messages, or with one message held at the same place on screen while thumbnails and
// cards load (ResizeObserver) and older pages are put in front of it.

import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from "react";

export type Anchor = { kind: "bottom" } | { kind: "seq"; seq: number; offset: number };

/** Within this many pixels of the end counts as "at the newest message". */
const BOTTOM_SLACK = 48;

export function useAnchoredScroll(scroller: RefObject<HTMLDivElement | null>, content: RefObject<HTMLDivElement | null>) {
  const anchor = useRef<Anchor>({ kind: "bottom" });
  const [atBottom, setAtBottom] = useState(true);

  /** Where message `seq` starts within the scrolled content, or null when it is not shown. */
  const topOf = useCallback(
    (seq: number): number | null => {
      const el = scroller.current;
      const node = el?.querySelector<HTMLElement>(`[data-seq="${seq}"]`);
      if (!el || !node) return null;
      return node.getBoundingClientRect().top - el.getBoundingClientRect().top + el.scrollTop;
    },
    [scroller],
  );

  /** Scrolls so the anchor is where it should be. */
  const apply = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const a = anchor.current;
    if (a.kind === "bottom") el.scrollTop = el.scrollHeight;
    else {
      const top = topOf(a.seq);
      if (top !== null) el.scrollTop = top - a.offset;
    }
  }, [scroller, topOf]);

  /** The reader scrolled: hold the first message they see (or the bottom). */
  const capture = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK;
    setAtBottom(bottom);
    if (bottom) {
      anchor.current = { kind: "bottom" };
      return;
    }
    const box = el.getBoundingClientRect();
    for (const node of el.querySelectorAll<HTMLElement>("[data-seq]")) {
      const r = node.getBoundingClientRect();
      if (r.bottom > box.top) {
        anchor.current = { kind: "seq", seq: Number(node.dataset.seq), offset: r.top - box.top };
        return;
      }
    }
  }, [scroller]);

  /** Holds `next` from now on, and scrolls to it. */
  const hold = useCallback(
    (next: Anchor) => {
      anchor.current = next;
      setAtBottom(next.kind === "bottom");
      apply();
    },
    [apply],
  );

  // After every render (new messages, older pages in front): back to the anchor.
  useLayoutEffect(apply);

  // Thumbnails, cards and fonts arriving later change the height: back to the anchor.
  useEffect(() => {
    const node = content.current;
    if (!node || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => apply());
    observer.observe(node);
    // The scroller itself shrinks when the keyboard opens or the composer grows.
    if (scroller.current) observer.observe(scroller.current);
    return () => observer.disconnect();
  }, [content, scroller, apply]);

  // Every scroll, ours included, re-reads the anchor: ours land where the anchor already is.
  const onScroll = capture;

  return { atBottom, hold, onScroll, anchor };
}

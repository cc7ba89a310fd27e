//! Live inbox: the socket's `inbox_changed` frames (a study arrived or grew) reach the inbox
//! screen, which lists again; several in a burst cause one refresh. No patient data: a study id.

type Listener = (studyId: string) => void;

const listeners = new Set<Listener>();

/** Called by the session for each `inbox_changed` frame. */
export function inboxChanged(studyId: string) {
  for (const l of listeners) l(studyId);
}

/** Listens until the returned function is called. */
export function onInboxChanged(l: Listener): () => void {
  listeners.add(l);
  return () => void listeners.delete(l);
}

/**
 * Calls `run` once `quietMs` after the last of a burst of calls, and at least every `maxMs`
 * while calls keep coming (a long CT still shows up as it arrives).
 */
export function coalesce(run: () => void, quietMs: number, maxMs: number, timers: Pick<typeof globalThis, "setTimeout" | "clearTimeout"> = globalThis) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let first = 0;
  const fire = () => {
    timer = null;
    first = 0;
    run();
  };
  const call = () => {
    const now = Date.now();
    if (!first) first = now;
    if (timer) timers.clearTimeout(timer);
    timer = timers.setTimeout(fire, Math.max(0, Math.min(quietMs, first + maxMs - now)));
  };
  call.cancel = () => {
    if (timer) timers.clearTimeout(timer);
    timer = null;
    first = 0;
  };
  return call;
}

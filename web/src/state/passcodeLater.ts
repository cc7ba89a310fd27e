//! "Later" on the passcode prompt is remembered per user for 7 days in this browser (a flag
//! and a time, no patient data), so a reload or the next sign-in does not ask again at once.
//! An organization that requires a passcode asks regardless.

/** How long "later" lasts. */
export const DEFER_MS = 7 * 24 * 60 * 60 * 1000;

type Storage = Pick<globalThis.Storage, "getItem" | "setItem" | "removeItem">;

const key = (user: string) => `renkei.passcodeLater.${user}`;

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** Remembers that `user` chose "later" at `now`. */
export function deferPasscode(user: string, now = Date.now(), store: Storage | null = storage()) {
  try {
    store?.setItem(key(user), String(now + DEFER_MS));
  } catch {
    /* storage full or disabled: the prompt comes back, which is safe */
  }
}

/** Whether `user`'s "later" still holds at `now`; an expired one is forgotten. */
export function passcodeDeferred(user: string, now = Date.now(), store: Storage | null = storage()): boolean {
  const until = Number(store?.getItem(key(user)) ?? 0);
  if (until > now) return until - now <= DEFER_MS;
  if (until) store?.removeItem(key(user));
  return false;
}

//! "Later" on the passcode prompt is remembered per user in this browser (a time, no patient
//! data) until the next sign-in with a password, for 7 days at most: reloading or reopening the
//! app does not ask again, a deliberate sign-in does. An organization that requires a passcode
//! asks regardless.

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

/** A sign-in with a password asks again: every remembered "later" in this browser goes. */
export function forgetPasscodeDeferrals(store: (Storage & { length: number; key(i: number): string | null }) | null = storage() as never) {
  try {
    for (let i = (store?.length ?? 0) - 1; i >= 0; i--) {
      const k = store?.key(i);
      if (k?.startsWith("renkei.passcodeLater.")) store?.removeItem(k);
    }
  } catch {
    /* nothing stored */
  }
}

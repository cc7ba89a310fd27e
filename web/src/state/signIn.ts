// What the sign-in screen tells a user after a refusal: how many wrong passwords are left
// before sign-in slows down, and when a wait or lock ends. Pure: the screen formats the time.

export type SignInKey =
  | "login.invalid"
  | "login.attemptsLeft"
  | "login.delayed"
  | "login.lockedUntil"
  | "login.rateLimited"
  | "login.refused"
  | "sso.error.sso_required"
  | "common.networkError"
  | "common.error";

export interface SignInNotice {
  key: SignInKey;
  /** Wrong passwords left before sign-in slows down. */
  n?: number;
  /** Seconds until trying again may succeed. */
  seconds?: number;
  /** When the wait or lock ends (ms since the epoch). */
  until?: number;
}

export interface Refusal {
  status: number;
  code: string;
  hint?: { attempts_left?: number; retry_after?: number };
}

/** The notice for a refused sign-in at `now` (ms). */
export function signInNotice(r: Refusal, now: number): SignInNotice {
  const wait = r.hint?.retry_after;
  const timed = (key: SignInKey): SignInNotice =>
    wait !== undefined && wait > 0 ? { key, seconds: wait, until: now + wait * 1000 } : { key: key === "login.lockedUntil" ? "login.refused" : "login.rateLimited" };
  if (r.status === 0) return { key: "common.networkError" };
  if (r.status === 401) {
    if (wait !== undefined && wait > 0) return timed("login.delayed");
    const left = r.hint?.attempts_left;
    return left !== undefined && left > 0 ? { key: "login.attemptsLeft", n: left } : { key: "login.invalid" };
  }
  if (r.status === 429 && r.code === "sign_in_delayed") return timed("login.delayed");
  if (r.status === 429) return { key: "login.rateLimited" };
  if (r.status === 423) return timed("login.lockedUntil");
  if (r.status === 403) return { key: "login.refused" };
  return { key: "common.error" };
}

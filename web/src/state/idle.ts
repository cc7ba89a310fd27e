// The client's idle lock: after the organization's `idle_lock_minutes` without user activity
// the app locks (the server locks the session on the same rule). The clock is injectable.

export class IdleTimer {
  private last: number;

  constructor(
    private minutes: number,
    private now: () => number = Date.now,
  ) {
    this.last = now();
  }

  /** The user did something. */
  activity(): void {
    this.last = this.now();
  }

  setMinutes(minutes: number): void {
    this.minutes = minutes;
  }

  /** Milliseconds until the lock (0 when due). */
  remaining(): number {
    return Math.max(0, this.last + this.minutes * 60_000 - this.now());
  }

  expired(): boolean {
    return this.minutes > 0 && this.remaining() === 0;
  }

  /** Whether there was activity since `since` (epoch ms): reported to the server in pings. */
  activeSince(since: number): boolean {
    return this.last > since;
  }
}

/** Reconnect delay: 0.5 s doubling to 15 s, with up to 30 % jitter. */
export function backoff(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** Math.max(0, attempt));
  return Math.round(base * (1 - 0.3 * random()));
}

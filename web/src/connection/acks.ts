// Sends over the socket wait for the server's ack; one that does not come in time has failed
// (the network lost it: it goes again, with the same client_msg_id, after a reconnect).

/** How long a send over the socket waits for its ack. */
export const ACK_TIMEOUT_MS = 10_000;

export class AckTimers {
  private timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private timeoutMs = ACK_TIMEOUT_MS) {}

  /** Starts (or restarts) waiting for the ack of `clientMsgId`; `onTimeout` when none comes. */
  wait(clientMsgId: string, onTimeout: () => void): void {
    this.settled(clientMsgId);
    this.timers.set(
      clientMsgId,
      setTimeout(() => {
        this.timers.delete(clientMsgId);
        onTimeout();
      }, this.timeoutMs),
    );
  }

  /** The ack (or the stored message, or a failure) came: stop waiting. */
  settled(clientMsgId: string): void {
    const timer = this.timers.get(clientMsgId);
    if (timer) clearTimeout(timer);
    this.timers.delete(clientMsgId);
  }

  /** Whether the ack of `clientMsgId` is awaited. */
  waiting(clientMsgId: string): boolean {
    return this.timers.has(clientMsgId);
  }

  clear(): void {
    this.timers.forEach(clearTimeout);
    this.timers.clear();
  }
}

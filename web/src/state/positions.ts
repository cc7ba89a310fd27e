// The newest seq this client has of each conversation, kept in memory only: sent in the
// WebSocket hello so the server replays exactly what was missed.

import type { Uuid } from "../types";

export class Positions {
  private seqs = new Map<Uuid, number>();

  /** Records that `seq` of `conversation` is known; positions only move forward. */
  observe(conversation: Uuid, seq: number): void {
    if (seq > (this.seqs.get(conversation) ?? 0)) this.seqs.set(conversation, seq);
  }

  get(conversation: Uuid): number {
    return this.seqs.get(conversation) ?? 0;
  }

  /** Whether `seq` is the next one expected (no gap) or already known. */
  isNextOrKnown(conversation: Uuid, seq: number): boolean {
    return seq <= this.get(conversation) + 1;
  }

  forget(conversation: Uuid): void {
    this.seqs.delete(conversation);
  }

  clear(): void {
    this.seqs.clear();
  }

  /** The `positions` of a hello frame. */
  snapshot(): Record<Uuid, number> {
    return Object.fromEntries(this.seqs);
  }
}

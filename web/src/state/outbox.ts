// Pending sends that failed: which go again by themselves after a reconnect. A send that the
// network lost is retried with the same client_msg_id (the server stores it once); one the
// server refused (too long, not a member, …) waits for the user, as retrying cannot help.

import type { Pending } from "./timeline";

/** Why a send failed: the network (or a timeout, or a server error), or the server said no. */
export type Failure = "network" | "refused";

/** An HTTP status as a failure kind: no answer, a timeout or a 5xx is worth retrying. */
export function failureOf(status: number | undefined): Failure {
  return status === undefined || status === 0 || status === 408 || status === 429 || status >= 500 ? "network" : "refused";
}

/** `p` marked failed, remembering why. */
export function markFailed(p: Pending, why: Failure): Pending {
  return { ...p, status: "failed", failure: why };
}

/** Whether `p` goes again by itself once the connection is back. */
export function resendsOnReconnect(p: Pending): boolean {
  if (p.seq !== undefined) return false;
  return p.status === "sending" || (p.status === "failed" && p.failure === "network");
}

/**
 * The pending list with every send that goes again shown as "sending" once more (same
 * client_msg_id, same place in the list), and those sends.
 */
export function resendAll(pending: Pending[]): { pending: Pending[]; resend: Pending[] } {
  const resend: Pending[] = [];
  const next = pending.map((p) => {
    if (!resendsOnReconnect(p)) return p;
    const again: Pending = { ...p, status: "sending", failure: undefined };
    resend.push(again);
    return again;
  });
  return { pending: resend.length ? next : pending, resend };
}

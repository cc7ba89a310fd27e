//! The viewer's side of a shared view: whether this image is shared in the running call, who
//! leads, and the leader's state for a follower to apply.

import { joinedHere } from "../state/call";
import type { SharedView, ViewTarget } from "../state/sharedView";
import { session } from "../session";
import { useCalls } from "./useCalls";

export type ShareRole = "none" | "idle" | "leader" | "follower";

export function useSharedView(target: ViewTarget): { role: ShareRole; view: SharedView | null } {
  const calls = useCalls();
  const call = calls.shown;
  const inCall = !!call && call.state !== "ended" && joinedHere(call, { user: session.store.myId, conn: session.calls.conn() });
  if (!inCall) return { role: "none", view: null };
  const view = calls.shared;
  const here = !!view && view.allowed && view.target.kind === target.kind && view.target.id === target.id;
  if (!here) return { role: "idle", view: null };
  return { role: view.leading ? "leader" : "follower", view };
}

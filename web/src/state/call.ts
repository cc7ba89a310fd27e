//! What a call screen shows, decided from the server's `call` frames (docs/PROTOCOL.md): which
//! call this socket shows, whether it rings here, is being called out, runs or has ended (and
//! why), who is in it and who muted what. Pure functions; `call/controller` applies them.

import type { Uuid } from "../types";

export type CallMedia = "audio" | "video";
export type CallMode = "p2p" | "sfu";
export type EndReason = "completed" | "declined" | "no_answer" | "busy" | "cancelled" | "removed";

export interface CallParticipant {
  user_id: Uuid;
  /** the socket that joined (a user may have a phone and a PC) */
  conn: string;
  audio: boolean;
  video: boolean;
  joined_at: string;
  /** its socket went away; the place waits (a grace period) for the same session to resume */
  reconnecting?: boolean;
}

/** A call as the server describes it in every `call` frame. */
export interface CallInfo {
  id: Uuid;
  conversation_id: Uuid;
  media: CallMedia;
  mode: CallMode;
  state: "ringing" | "active" | "ended";
  started_by: Uuid;
  started_at: string;
  ended_at?: string | null;
  end_reason?: EndReason | null;
  participants: CallParticipant[];
  ringing: Uuid[];
  declined: Uuid[];
}

/** Who this socket is: the signed-in user and the socket's id from `welcome`. */
export interface Self {
  user: Uuid;
  conn: string | null;
}

/** Whether this socket takes part in `call` (it joined, or started it). */
export function joinedHere(call: CallInfo, self: Self): boolean {
  return self.conn !== null && call.participants.some((p) => p.conn === self.conn);
}

/** Whether `call` rings on this socket: the user is called, has not declined and has not
 * answered on another device. */
export function ringsHere(call: CallInfo, self: Self): boolean {
  return (
    call.state !== "ended" &&
    call.ringing.includes(self.user) &&
    !call.declined.includes(self.user) &&
    !call.participants.some((p) => p.user_id === self.user)
  );
}

/**
 * The call this socket shows after a `call` frame: the shown one goes on (ended included, so
 * the reason can be read) unless it was answered or declined on another device; another call
 * is taken only when nothing live is shown and it rings here or was joined here.
 */
export function nextShown(shown: CallInfo | null, frame: CallInfo, self: Self): CallInfo | null {
  const relevant = joinedHere(frame, self) || ringsHere(frame, self);
  if (shown && shown.id === frame.id) {
    if (frame.state === "ended") return wasMine(shown, self) ? frame : null;
    return relevant ? frame : null;
  }
  if (shown && shown.state !== "ended") return shown;
  return relevant ? frame : shown;
}

/** Whether the shown call concerned this socket before it ended (ringing or joined here). */
function wasMine(shown: CallInfo, self: Self): boolean {
  return joinedHere(shown, self) || ringsHere(shown, self);
}

export type CallScreen =
  | { screen: "incoming"; call: CallInfo }
  | { screen: "outgoing"; call: CallInfo; me: CallParticipant }
  | { screen: "active"; call: CallInfo; me: CallParticipant; others: CallParticipant[] }
  | { screen: "ended"; call: CallInfo; reason: EndReason };

/** What the screen shows for the shown call. */
export function callScreen(call: CallInfo, self: Self): CallScreen | null {
  if (call.state === "ended") return { screen: "ended", call, reason: call.end_reason ?? "completed" };
  const me = call.participants.find((p) => p.conn === self.conn);
  if (me) {
    const others = call.participants.filter((p) => p.conn !== self.conn);
    if (others.length === 0) return { screen: "outgoing", call, me };
    return { screen: "active", call, me, others };
  }
  if (ringsHere(call, self)) return { screen: "incoming", call };
  return null;
}

/** The catalogue key of an ended call's line, as the caller or a callee reads it. */
export function endedKey(call: CallInfo, self: Self): EndedKey {
  const caller = call.started_by === self.user;
  switch (call.end_reason ?? "completed") {
    case "declined":
      return caller ? "call.ended.declined" : "call.ended.youDeclined";
    case "no_answer":
      return caller ? "call.ended.noAnswer" : "call.ended.missed";
    case "busy":
      return "call.ended.busy";
    case "cancelled":
      return caller ? "call.ended.cancelled" : "call.ended.missed";
    case "removed":
      return "call.ended.removed";
    case "completed":
      return "call.ended.completed";
  }
}

export type EndedKey =
  | "call.ended.declined"
  | "call.ended.youDeclined"
  | "call.ended.noAnswer"
  | "call.ended.missed"
  | "call.ended.busy"
  | "call.ended.cancelled"
  | "call.ended.removed"
  | "call.ended.completed";

/**
 * Which side is polite in a 1:1 call's perfect negotiation: the one who joined later (the
 * callee who answered); the same instant is broken by the socket ids so both sides agree.
 */
export function politeTowards(me: CallParticipant, other: CallParticipant): boolean {
  const mine = Date.parse(me.joined_at);
  const theirs = Date.parse(other.joined_at);
  if (mine !== theirs) return mine > theirs;
  return me.conn > other.conn;
}

/** Running group calls by conversation, for a "join" button where this user is not in one. */
export function joinable(calls: Record<Uuid, CallInfo>, self: Self): Record<Uuid, CallInfo> {
  const out: Record<Uuid, CallInfo> = {};
  for (const call of Object.values(calls)) {
    if (call.state === "active" && call.mode === "sfu" && !call.participants.some((p) => p.user_id === self.user)) out[call.conversation_id] = call;
  }
  return out;
}

/** Keeps the newest frame of each call that is not over (for `joinable`). */
export function trackCalls(calls: Record<Uuid, CallInfo>, frame: CallInfo): Record<Uuid, CallInfo> {
  const next = { ...calls };
  if (frame.state === "ended") delete next[frame.id];
  else next[frame.id] = frame;
  return next;
}

/** A call's running time as m:ss (or h:mm:ss). */
export function durationLabel(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** The grid's columns for `n` tiles on a phone: one, two, then two or three columns. */
export function gridColumns(n: number): number {
  if (n <= 1) return 1;
  if (n <= 4) return 2;
  return n <= 6 ? 2 : 3;
}

/**
 * The call a new socket (`welcome` with another conn) resumes with `call_resume`: the shown
 * call, when it was joined on the old socket and is not over (otherwise null).
 */
export function toResume(shown: CallInfo | null, self: Self, conn: string | null): Uuid | null {
  if (!shown || shown.state === "ended" || conn === null || conn === self.conn) return null;
  return joinedHere(shown, self) ? shown.id : null;
}

/** Whether `frame` settles a resume of call `resuming.call` on socket `resuming.conn`: the
 * server shows the new socket in the call, or the call is over. */
export function resumeSettled(frame: CallInfo, resuming: { call: Uuid; conn: string }): boolean {
  return frame.id === resuming.call && (frame.state === "ended" || frame.participants.some((p) => p.conn === resuming.conn));
}

export type CallStatus = "ringingOut" | "reconnecting" | "connecting" | "running";

/**
 * The call's status line: reconnecting while this socket resumes, while another participant's
 * socket is away, or while the media link is down; connecting until the link is up.
 */
export function callStatus(screen: CallScreen | null, link: RTCPeerConnectionState | undefined, selfReconnecting: boolean): CallStatus {
  if (screen?.screen === "outgoing") return selfReconnecting ? "reconnecting" : "ringingOut";
  const others = screen?.screen === "active" ? screen.others : [];
  if (selfReconnecting || others.some((p) => p.reconnecting) || link === "disconnected" || link === "failed") return "reconnecting";
  return link === "connected" ? "running" : "connecting";
}

import { describe, expect, it } from "vitest";
import { callScreen, callStatus, durationLabel, resumeSettled, toResume, endedKey, gridColumns, joinable, nextShown, politeTowards, trackCalls, type CallInfo, type CallParticipant, type Self } from "./call";

const caller: Self = { user: "u-a", conn: "1" };
const callee: Self = { user: "u-b", conn: "7" };
const calleeOtherDevice: Self = { user: "u-b", conn: "8" };
const part = (user_id: string, conn: string, joined_at = "2026-12-07T12:00:00Z"): CallParticipant => ({ user_id, conn, audio: true, video: true, joined_at });

function ringing(): CallInfo {
  return {
    id: "call-1",
    conversation_id: "c-1",
    media: "video",
    mode: "p2p",
    state: "ringing",
    started_by: "u-a",
    started_at: "2026-12-07T12:00:00Z",
    participants: [part("u-a", "1")],
    ringing: ["u-b"],
    declined: [],
  };
}
const answered = (by = "7"): CallInfo => ({ ...ringing(), state: "active", ringing: [], participants: [part("u-a", "1"), part("u-b", by, "2026-12-07T12:00:05Z")] });
const ended = (reason: CallInfo["end_reason"], from = ringing()): CallInfo => ({ ...from, state: "ended", end_reason: reason, ended_at: "2026-12-07T12:00:30Z" });

describe("the shown call", () => {
  it("rings on every socket of the callee and shows the caller's socket calling out", () => {
    expect(callScreen(nextShown(null, ringing(), callee)!, callee)?.screen).toBe("incoming");
    expect(callScreen(nextShown(null, ringing(), calleeOtherDevice)!, calleeOtherDevice)?.screen).toBe("incoming");
    expect(callScreen(nextShown(null, ringing(), caller)!, caller)?.screen).toBe("outgoing");
    // The caller's other device does not show the call at all.
    expect(nextShown(null, ringing(), { user: "u-a", conn: "2" })).toBeNull();
  });

  it("goes active for both when the callee answers; the callee's other device stops ringing", () => {
    const shown = ringing();
    const s = callScreen(nextShown(shown, answered(), caller)!, caller);
    expect(s?.screen).toBe("active");
    expect(s?.screen === "active" && s.others.map((p) => p.conn)).toEqual(["7"]);
    expect(callScreen(nextShown(shown, answered(), callee)!, callee)?.screen).toBe("active");
    expect(nextShown(shown, answered(), calleeOtherDevice)).toBeNull();
  });

  it("a decline on another device stops the ringing here", () => {
    const declined = { ...ringing(), declined: ["u-b"], ringing: [] };
    expect(nextShown(ringing(), declined, calleeOtherDevice)).toBeNull();
  });

  it("keeps an ended call to show why it ended, to the caller and to the ringing callee", () => {
    for (const reason of ["declined", "no_answer", "busy", "cancelled"] as const) {
      const shown = nextShown(ringing(), ended(reason), caller);
      expect(callScreen(shown!, caller)).toMatchObject({ screen: "ended", reason });
    }
    expect(nextShown(ringing(), ended("cancelled"), callee)?.state).toBe("ended");
    // A call that never concerned this socket is not shown when it ends.
    expect(nextShown(null, ended("completed", answered()), calleeOtherDevice)).toBeNull();
  });

  it("a removed participant sees the call end for them", () => {
    const removed = ended("removed", answered());
    expect(callScreen(nextShown(answered(), removed, callee)!, callee)).toMatchObject({ screen: "ended", reason: "removed" });
  });

  it("a second call does not replace a live one, but replaces one that ended", () => {
    const other = { ...ringing(), id: "call-2", started_by: "u-c", participants: [part("u-c", "9")] };
    expect(nextShown(answered(), other, callee)?.id).toBe("call-1");
    expect(nextShown(ended("completed", answered()), other, callee)?.id).toBe("call-2");
  });

  it("reads the end from each side", () => {
    expect(endedKey(ended("declined"), caller)).toBe("call.ended.declined");
    expect(endedKey(ended("declined"), callee)).toBe("call.ended.youDeclined");
    expect(endedKey(ended("no_answer"), caller)).toBe("call.ended.noAnswer");
    expect(endedKey(ended("no_answer"), callee)).toBe("call.ended.missed");
    expect(endedKey(ended("cancelled"), callee)).toBe("call.ended.missed");
    expect(endedKey(ended("busy"), caller)).toBe("call.ended.busy");
    expect(endedKey(ended(null), caller)).toBe("call.ended.completed");
  });

  it("shows others' mute state", () => {
    const call = answered();
    call.participants[1] = { ...call.participants[1], audio: false };
    const s = callScreen(call, caller);
    expect(s?.screen === "active" && s.others[0].audio).toBe(false);
  });
});

describe("perfect negotiation roles", () => {
  it("makes the joiner polite, and exactly one side of a tie", () => {
    const [a, b] = answered().participants;
    expect(politeTowards(a, b)).toBe(false);
    expect(politeTowards(b, a)).toBe(true);
    // Times compare as instants, not as text ("…05Z" is earlier than "…05.250Z").
    expect(politeTowards(part("u-b", "7", "2026-12-07T12:00:05.250Z"), part("u-a", "1", "2026-12-07T12:00:05Z"))).toBe(true);
    const x = part("u-a", "1");
    const y = part("u-b", "2");
    expect(politeTowards(x, y) !== politeTowards(y, x)).toBe(true);
  });
});

describe("running group calls", () => {
  it("offers to join a group call one is not in, until it ends", () => {
    const group: CallInfo = { ...answered(), id: "g", conversation_id: "c-g", mode: "sfu" };
    let calls = trackCalls({}, group);
    expect(Object.keys(joinable(calls, { user: "u-x", conn: "3" }))).toEqual(["c-g"]);
    expect(joinable(calls, caller)).toEqual({});
    calls = trackCalls(calls, ended("completed", group));
    expect(joinable(calls, { user: "u-x", conn: "3" })).toEqual({});
  });
});

describe("labels", () => {
  it("formats durations and grid columns", () => {
    expect(durationLabel(0)).toBe("0:00");
    expect(durationLabel(65_400)).toBe("1:05");
    expect(durationLabel(3_725_000)).toBe("1:02:05");
    expect([1, 2, 3, 4, 5, 8].map(gridColumns)).toEqual([1, 2, 2, 2, 2, 3]);
  });
});

describe("resuming after a reconnect", () => {
  it("resumes the call joined on the old socket, not one that rings, ended, or the same socket", () => {
    expect(toResume(answered(), callee, "9")).toBe("call-1");
    expect(toResume(answered(), callee, "7")).toBeNull();
    expect(toResume(ringing(), callee, "9")).toBeNull();
    expect(toResume(ended("completed", answered()), callee, "9")).toBeNull();
    expect(toResume(null, callee, "9")).toBeNull();
  });

  it("is settled when the server shows the new socket, or the call ended", () => {
    const resuming = { call: "call-1", conn: "9" };
    expect(resumeSettled(answered("7"), resuming)).toBe(false);
    expect(resumeSettled(answered("9"), resuming)).toBe(true);
    expect(resumeSettled(ended("completed", answered("7")), resuming)).toBe(true);
    expect(resumeSettled({ ...answered("9"), id: "call-2" }, resuming)).toBe(false);
  });

  it("shows reconnecting for this socket, for a peer whose socket is away, and for a link that is down", () => {
    const active = callScreen(answered(), caller);
    expect(callStatus(active, "connected", false)).toBe("running");
    expect(callStatus(active, "connected", true)).toBe("reconnecting");
    expect(callStatus(active, "failed", false)).toBe("reconnecting");
    expect(callStatus(active, "new", false)).toBe("connecting");
    const away = { ...answered(), participants: [part("u-a", "1"), { ...part("u-b", "7", "2026-12-07T12:00:05Z"), reconnecting: true }] };
    expect(callStatus(callScreen(away, caller), "connected", false)).toBe("reconnecting");
    expect(callStatus(callScreen(ringing(), caller), undefined, false)).toBe("ringingOut");
  });
});

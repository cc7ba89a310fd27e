import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CallClientFrame } from "../connection/frames";
import type { CallInfo } from "../state/call";
import { CallController } from "./controller";

vi.mock("../api", () => ({
  request: vi.fn(async () => {
    throw Object.assign(new Error("not configured"), { status: 404 });
  }),
  ApiError: class ApiError extends Error {},
}));

/** A camera and microphone that answer at once, and peer connections that only record. */
class FakeTrack {
  enabled = true;
  stopped = false;
  constructor(readonly kind: string) {}
  stop() {
    this.stopped = true;
  }
}
class FakeStream {
  constructor(private tracks: FakeTrack[] = []) {}
  getTracks() {
    return this.tracks;
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === "audio");
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === "video");
  }
  addTrack(t: FakeTrack) {
    this.tracks.push(t);
  }
  removeTrack(t: FakeTrack) {
    this.tracks = this.tracks.filter((x) => x !== t);
  }
}
const peers: FakePeer[] = [];
class FakePeer {
  config: unknown;
  closed = false;
  transceivers: { track: FakeTrack; init: { sendEncodings?: { rid?: string }[] } }[] = [];
  tracks: FakeTrack[] = [];
  signalingState = "stable";
  connectionState = "new";
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string } | null = null;
  async setRemoteDescription(d: { type: string }) {
    this.remoteDescription = d;
    this.signalingState = d.type === "offer" ? "have-remote-offer" : "stable";
  }
  async setLocalDescription() {
    const answer = this.signalingState === "have-remote-offer";
    this.localDescription = { type: answer ? "answer" : "offer", sdp: "v=0" };
    this.signalingState = answer ? "stable" : "have-local-offer";
  }
  async addIceCandidate() {}
  constructor(config: unknown) {
    this.config = config;
    peers.push(this);
  }
  addTrack(t: FakeTrack) {
    this.tracks.push(t);
  }
  addTransceiver(t: FakeTrack, init: { sendEncodings?: { rid?: string }[] }) {
    this.transceivers.push({ track: t, init });
  }
  get sent() {
    return [...this.tracks, ...this.transceivers.map((x) => x.track)].map((t) => (typeof t === "string" ? `recv ${t}` : t.kind));
  }
  close() {
    this.closed = true;
  }
  getSenders() {
    return [];
  }
  restartIce() {}
  onicecandidate: ((e: { candidate: { toJSON(): unknown } | null }) => void) | null = null;
}

const me = "u-a";
function setup() {
  const sent: CallClientFrame[] = [];
  const opened: unknown[] = [];
  const calls = new CallController({ send: (f) => (sent.push(f), true), me: () => me, openShared: (v) => opened.push(v) });
  calls.welcome("1");
  return { calls, sent, opened };
}
const call = (patch: Partial<CallInfo> = {}): CallInfo => ({
  id: "k",
  conversation_id: "c",
  media: "video",
  mode: "p2p",
  state: "ringing",
  started_by: "u-b",
  started_at: "2026-12-07T12:00:00Z",
  participants: [{ user_id: "u-b", conn: "9", audio: true, video: true, joined_at: "2026-12-07T12:00:00Z" }],
  ringing: [me],
  declined: [],
  ...patch,
});
const settle = () => new Promise((ok) => setTimeout(ok, 0));

beforeEach(() => {
  peers.length = 0;
  vi.stubGlobal("navigator", {
    mediaDevices: { getUserMedia: vi.fn(async (c: { video: unknown }) => new FakeStream([new FakeTrack("audio"), ...(c.video ? [new FakeTrack("video")] : [])])) },
  });
  vi.stubGlobal("RTCPeerConnection", FakePeer);
  vi.stubGlobal("MediaStream", FakeStream);
});
afterEach(() => vi.unstubAllGlobals());

describe("the call controller", () => {
  it("rings, answers with the camera, and answers the caller's offer with its tracks", async () => {
    const { calls, sent } = setup();
    calls.frame({ type: "call", call: call() });
    expect(calls.snapshot.screen?.screen).toBe("incoming");
    calls.accept("video");
    expect(sent.at(-1)).toEqual({ type: "call_join", call_id: "k", media: "video" });
    calls.frame({ type: "call", call: call({ state: "active", ringing: [], participants: [...call().participants, { user_id: me, conn: "1", audio: true, video: true, joined_at: "2026-12-07T12:00:04Z" }] }) });
    expect(calls.snapshot.screen?.screen).toBe("active");
    await settle();
    // The joiner waits for the caller's offer (no two first offers at once).
    expect(peers).toHaveLength(0);
    calls.frame({ type: "call_signal", call_id: "k", from_user: "u-b", from_conn: "9", data: { description: { type: "offer", sdp: "v=0" } } });
    for (let i = 0; i < 10; i++) await settle();
    expect(peers).toHaveLength(1);
    expect(peers[0].config).toMatchObject({ iceServers: [] });
    expect(peers[0].tracks.map((t) => t.kind)).toEqual(["audio", "video"]);
    expect(sent.at(-1)).toMatchObject({ type: "call_signal", to_conn: "9", data: { description: { type: "answer" } } });
    // Mute goes to the others in the next call frame.
    calls.setAudio(false);
    expect(sent.at(-1)).toEqual({ type: "call_media", call_id: "k", audio: false, video: true });
    // The other side hangs up: the link closes and the camera stops.
    const local = calls.snapshot.local as unknown as FakeStream;
    calls.frame({ type: "call", call: call({ state: "ended", end_reason: "completed", ringing: [] }) });
    expect(calls.snapshot.screen).toMatchObject({ screen: "ended", reason: "completed" });
    await settle();
    expect(peers[0].closed).toBe(true);
    expect(local.getTracks().every((t) => t.stopped)).toBe(true);
  });

  it("after a drop nothing about the call goes out until the new socket resumes; then the link is negotiated anew and a mute made meanwhile is sent", async () => {
    const { calls, sent } = setup();
    const joined = (conn: string, audio = true) => call({ state: "active", ringing: [], participants: [...call().participants, { user_id: me, conn, audio, video: true, joined_at: "2026-12-07T12:00:04Z" }] });
    calls.frame({ type: "call", call: call() });
    calls.accept("video");
    calls.frame({ type: "call", call: joined("1") });
    calls.frame({ type: "call_signal", call_id: "k", from_user: "u-b", from_conn: "9", data: { description: { type: "offer", sdp: "v=0" } } });
    for (let i = 0; i < 10; i++) await settle();
    expect(peers).toHaveLength(1);
    const old = peers[0];
    const camera = calls.snapshot.local;
    expect(camera).not.toBeNull();

    // The socket drops: the old link's late candidate (or an ICE restart's offer) and a mute
    // would reach the server from a socket it does not know in the call, and be refused.
    calls.socketDown();
    expect(calls.snapshot.reconnecting).toBe(true);
    const before = sent.length;
    old.onicecandidate?.({ candidate: { toJSON: () => ({ candidate: "candidate:1 1 udp 1 192.0.2.2 9 typ host" }) } });
    calls.setAudio(false);
    expect(sent.slice(before)).toEqual([]);

    // The new socket: the first frame about the call is call_resume; the old link closes.
    calls.welcome("5");
    expect(sent.slice(before)).toEqual([{ type: "call_resume", call_id: "k" }]);
    await settle();
    expect(old.closed).toBe(true);
    old.onicecandidate?.({ candidate: { toJSON: () => ({ candidate: "candidate:2 1 udp 1 192.0.2.2 9 typ host" }) } });
    expect(sent.slice(before)).toHaveLength(1);
    expect(calls.snapshot.shown?.id).toBe("k");

    // The server moved the place: the mute goes out, and the caller's new offer is answered.
    calls.frame({ type: "call", call: joined("5") });
    expect(calls.snapshot.reconnecting).toBe(false);
    expect(sent.at(-1)).toEqual({ type: "call_media", call_id: "k", audio: false, video: true });
    calls.frame({ type: "call_signal", call_id: "k", from_user: "u-b", from_conn: "9", data: { description: { type: "offer", sdp: "v=0" } } });
    for (let i = 0; i < 10; i++) await settle();
    expect(peers).toHaveLength(2);
    expect(sent.at(-1)).toMatchObject({ type: "call_signal", to_conn: "9", data: { description: { type: "answer" } } });
    expect(calls.snapshot.local).toBe(camera);
    expect(peers[1].tracks.map((t) => t.kind)).toEqual(["audio", "video"]);
  });

  it("joins a running group call: it stays shown until the server has the join", async () => {
    const { calls, sent } = setup();
    const running = call({ conversation_id: "g", mode: "sfu", state: "active", ringing: [], participants: [call().participants[0], { user_id: "u-c", conn: "5", audio: true, video: true, joined_at: "2026-12-07T12:00:03Z" }] });
    calls.frame({ type: "call", call: running });
    expect(calls.snapshot.joinable.g?.id).toBe("k");
    calls.accept("audio", running);
    expect(sent.at(-1)).toEqual({ type: "call_join", call_id: "k", media: "audio" });
    // Someone mutes before the join arrives: still this call.
    calls.frame({ type: "call", call: { ...running, participants: running.participants.map((p) => ({ ...p, audio: false })) } });
    expect(calls.snapshot.shown?.id).toBe("k");
    calls.frame({ type: "call", call: { ...running, participants: [...running.participants, { user_id: me, conn: "1", audio: true, video: false, joined_at: "2026-12-07T12:00:09Z" }] } });
    expect(calls.snapshot.screen?.screen).toBe("active");
    await settle();
    await settle();
    expect(peers).toHaveLength(1);
    expect(peers[0].tracks.map((t) => t.kind)).toEqual(["audio"]);
  });

  it("a call of ours that comes back already over shows why (busy)", () => {
    const { calls } = setup();
    calls.start("c", "audio");
    calls.frame({ type: "call", call: call({ started_by: me, state: "ended", end_reason: "busy", participants: [], ringing: [] }) });
    expect(calls.snapshot.screen).toMatchObject({ screen: "ended", reason: "busy" });
    // Someone else's call in another conversation is not taken for ours.
    const other = setup();
    other.calls.start("c2", "audio");
    other.calls.frame({ type: "call", call: call({ state: "ended", end_reason: "busy", participants: [], ringing: [] }) });
    expect(other.calls.snapshot.screen).toBeNull();
  });

  it("the caller offers at once, receiving even without a camera", async () => {
    const { calls } = setup();
    calls.start("c", "audio");
    calls.frame({ type: "call", call: call({ started_by: me, ringing: [], state: "active", participants: [{ user_id: me, conn: "1", audio: true, video: false, joined_at: "2026-12-07T12:00:00Z" }, { user_id: "u-b", conn: "9", audio: true, video: false, joined_at: "2026-12-07T12:00:05Z" }] }) });
    for (let i = 0; i < 5; i++) await settle();
    expect(peers).toHaveLength(1);
    expect(peers[0].sent).toEqual(["audio", "recv video"]);
  });

  it("a group call sends simulcast to the SFU", async () => {
    const { calls } = setup();
    calls.start("g", "video");
    calls.frame({ type: "call", call: call({ conversation_id: "g", mode: "sfu", started_by: me, participants: [{ user_id: me, conn: "1", audio: true, video: true, joined_at: "2026-12-07T12:00:00Z" }], ringing: ["u-b"] }) });
    await settle();
    await settle();
    expect(peers).toHaveLength(1);
    expect(peers[0].transceivers[0].init.sendEncodings?.map((e) => e.rid)).toEqual(["l", "m", "h"]);
  });

  it("declining hides the ring at once; a refused start shows why and releases the camera", async () => {
    const { calls, sent } = setup();
    calls.frame({ type: "call", call: call() });
    calls.decline();
    expect(sent.at(-1)).toEqual({ type: "call_decline", call_id: "k" });
    expect(calls.snapshot.screen).toBeNull();
    // The call's end (declined) does not come back on this socket.
    calls.frame({ type: "call", call: call({ state: "ended", end_reason: "declined", declined: [me], ringing: [] }) });
    expect(calls.snapshot.screen).toBeNull();

    calls.start("c", "video");
    await settle();
    const local = calls.snapshot.local as unknown as FakeStream;
    expect(calls.error("call_forbidden")).toBe(true);
    expect(calls.snapshot.problem).toBe("call.error.call_forbidden");
    expect(local.getTracks().every((t) => t.stopped)).toBe(true);
    expect(calls.error("version_conflict")).toBe(false);
    // A frame that crossed the end of a call is refused call_not_found: nothing to show.
    calls.dismiss();
    calls.frame({ type: "call", call: call({ state: "active", ringing: [], participants: [...call().participants, { user_id: me, conn: "1", audio: true, video: true, joined_at: "2026-12-07T12:00:04Z" }] }) });
    expect(calls.error("call_not_found")).toBe(true);
    expect(calls.snapshot.problem).toBeNull();
  });

  it("locking while a call rings here does not decline it; locking in a call leaves it", () => {
    const { calls, sent } = setup();
    calls.frame({ type: "call", call: call() });
    expect(calls.snapshot.screen?.screen).toBe("incoming");
    calls.reset();
    expect(sent.filter((f) => f.type === "call_decline")).toEqual([]);
    expect(calls.snapshot.screen).toBeNull();

    const again = setup();
    again.calls.frame({ type: "call", call: call({ state: "active", ringing: [], participants: [...call().participants, { user_id: me, conn: "1", audio: true, video: true, joined_at: "2026-12-07T12:00:04Z" }] }) });
    again.calls.reset();
    expect(again.sent.at(-1)).toEqual({ type: "call_leave", call_id: "k" });
  });

  it("follows a shared view (the call folds into its bar); a view one may not open only shows a notice", () => {
    const { calls, opened } = setup();
    const joined = call({ state: "active", ringing: [], participants: [...call().participants, { user_id: me, conn: "1", audio: true, video: true, joined_at: "2026-12-07T12:00:04Z" }] });
    calls.frame({ type: "call", call: joined });
    calls.frame({ type: "view_share", call_id: "k", from_user: "u-b", target: { kind: "study", id: "s" }, state: { slice: 3 }, allowed: true });
    expect(opened).toHaveLength(1);
    expect(calls.snapshot.minimized).toBe(true);
    calls.frame({ type: "view_share", call_id: "k", from_user: "u-b", target: { kind: "study", id: "s" }, state: { slice: 4 }, allowed: true });
    expect(opened).toHaveLength(1);
    expect(calls.snapshot.shared?.state?.slice).toBe(4);
    calls.frame({ type: "view_share", call_id: "k", from_user: "u-b", target: { kind: "study" }, allowed: false });
    expect(opened).toHaveLength(1);
    expect(calls.snapshot.shared?.allowed).toBe(false);
  });

  it("a leader someone takes over from sends nothing more of its own view", () => {
    vi.useFakeTimers();
    try {
      const { calls, sent } = setup();
      calls.frame({ type: "call", call: call({ state: "active", ringing: [], participants: [...call().participants, { user_id: me, conn: "1", audio: true, video: true, joined_at: "2026-12-07T12:00:04Z" }] }) });
      calls.share({ kind: "study", id: "s" }, { slice: 0 });
      calls.shareState({ slice: 1 }); // waits in the throttle
      calls.frame({ type: "view_share", call_id: "k", from_user: "u-b", target: { kind: "study", id: "s" }, state: { slice: 7 }, allowed: true });
      vi.advanceTimersByTime(200);
      const shares = sent.filter((f) => f.type === "view_share");
      expect(shares).toHaveLength(1);
      expect(shares[0]).toMatchObject({ state: { slice: 0 } });
      expect(calls.snapshot.shared).toMatchObject({ leader: "u-b", leading: false, state: { slice: 7 } });
    } finally {
      vi.useRealTimers();
    }
  });

  it("sends the leader's view at most 20 times a second, unchanged views not at all", () => {
    vi.useFakeTimers();
    try {
      const { calls, sent } = setup();
      calls.frame({ type: "call", call: call({ state: "active", ringing: [], participants: [...call().participants, { user_id: me, conn: "1", audio: true, video: true, joined_at: "2026-12-07T12:00:04Z" }] }) });
      calls.share({ kind: "study", id: "s" }, { slice: 0 });
      for (let i = 1; i <= 50; i++) {
        calls.shareState({ slice: i });
        calls.shareState({ slice: i });
        vi.advanceTimersByTime(10);
      }
      vi.advanceTimersByTime(100);
      const shares = sent.filter((f) => f.type === "view_share");
      expect(shares.length).toBeLessThanOrEqual(11);
      expect(shares.at(-1)).toMatchObject({ state: { slice: 50 } });
      calls.stopSharing();
      expect(sent.at(-1)).toEqual({ type: "view_stop", call_id: "k" });
    } finally {
      vi.useRealTimers();
    }
  });
});

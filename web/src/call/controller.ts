//! This socket's calls: the shown call (state/call), the camera and microphone, one peer
//! connection per other socket (1:1, perfect negotiation with the joiner polite) or one to the
//! SFU (group calls, simulcast), mute/camera/facing, the shared view, and a snapshot for the screens.

import { ApiError, request } from "../api";
import type { CallClientFrame, CallFrame, LayerWant } from "../connection/frames";
import { callScreen, joinable, joinedHere, nextShown, politeTowards, resumeSettled, toResume, trackCalls, type CallInfo, type CallMedia, type CallScreen, type Self } from "../state/call";
import { afterViewShare, afterViewStop, changedFields, takeOver, Throttle, type SharedView, type ViewState, type ViewTarget } from "../state/sharedView";
import type { Uuid } from "../types";
import { Negotiator, type SignalData } from "./negotiation";

/** The SFU's address in `call_signal`. */
export const SFU = "sfu";
/** How long an ended call's reason stays on screen. */
export const ENDED_MS = 6_000;
/** The three simulcast layers a group call's camera sends (the SFU forwards one to each). */
export const SIMULCAST: RTCRtpEncodingParameters[] = [
  { rid: "l", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "m", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

export type Facing = "user" | "environment";

export interface CallSnapshot {
  /** the call this socket shows (ringing, running, or just ended) */
  shown: CallInfo | null;
  screen: CallScreen | null;
  /** running group calls by conversation, that this user is not in */
  joinable: Record<Uuid, CallInfo>;
  local: MediaStream | null;
  /** remote media by the sending socket's conn */
  remotes: Record<string, MediaStream>;
  /** the peer connections' states by conn ("sfu" in a group call) */
  links: Record<string, RTCPeerConnectionState>;
  audio: boolean;
  video: boolean;
  facing: Facing;
  /** the call screen is folded into the bar over the chat */
  minimized: boolean;
  shared: SharedView | null;
  /** this socket dropped in a call it joined, and resumes it on the next socket */
  reconnecting: boolean;
  /** a refusal or failure to show (catalogue key) */
  problem: string | null;
}

/** What the controller needs from the session. */
export interface CallPorts {
  send(frame: CallClientFrame): boolean;
  me(): Uuid;
  /** The study viewer or photo of a shared view opens (the follower's side). */
  openShared(view: SharedView, conversation: Uuid): void;
}

interface Peer {
  conn: string;
  pc: RTCPeerConnection;
  negotiator: Negotiator;
  /** mid of the video receiver → the sending conn (group calls) */
  mids: Record<string, string>;
}

const CALL_ERRORS = new Set(["call_not_found", "not_a_participant", "call_forbidden", "call_full", "call_busy", "invalid_call_frame", "sfu_unavailable"]);

export class CallController {
  private conn_: string | null = null;
  private calls: Record<Uuid, CallInfo> = {};
  private peers = new Map<string, Promise<Peer>>();
  private ice: Promise<RTCIceServer[]> | null = null;
  private localReady: Promise<MediaStream | null> | null = null;
  private endTimer: ReturnType<typeof setTimeout> | null = null;
  private shareThrottle: Throttle<{ target: ViewTarget; state: ViewState }>;
  private lastLayers = "";
  /** a start or join was sent and the server has not shown this socket in the call yet */
  private asking = false;
  /** the conversation this socket just called (its call may come back already ended: busy) */
  private startingIn: Uuid | null = null;
  /** the call this socket's new conn is taking back (`call_resume` sent, not yet settled) */
  private resuming: { call: Uuid; conn: string } | null = null;
  /** The socket of `conn_` is open and welcomed. Between a drop and the next `welcome` the
   * server does not know the (new) socket as the call's participant: a call frame sent then
   * would be refused, and a refusal while resuming hangs up. */
  private welcomed = false;
  /** Counts sockets: a peer connection signals only over the socket it was opened under. */
  private socketEpoch = 0;
  private listeners = new Set<() => void>();
  snapshot: CallSnapshot = empty();

  constructor(private ports: CallPorts) {
    this.shareThrottle = new Throttle((v) => {
      const call = this.snapshot.shown;
      if (call) this.send({ type: "view_share", call_id: call.id, target: v.target, state: v.state });
    });
  }

  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  };
  getSnapshot = () => this.snapshot;

  private set(patch: Partial<CallSnapshot>) {
    this.snapshot = { ...this.snapshot, ...patch };
    this.listeners.forEach((l) => l());
  }

  /** This socket's id (from `welcome`). */
  conn(): string | null {
    return this.conn_;
  }

  private self(): Self {
    return { user: this.ports.me(), conn: this.conn_ };
  }

  // ---- frames ----
  /** `welcome`: this socket's id. A new socket is a new conn: a call joined on the old one is
   * taken back (`call_resume`) with the local media kept, and its links negotiated anew. */
  welcome(conn: string | undefined) {
    this.welcomed = true;
    this.socketEpoch++;
    const resume = toResume(this.snapshot.shown, this.self(), conn ?? null);
    if (resume && conn) {
      // The conn stays the old one (the place the call frames show) until the server moves it.
      this.resuming = { call: resume, conn };
      this.closeLinks();
      this.set({ reconnecting: true });
      this.send({ type: "call_resume", call_id: resume });
      return;
    }
    if (this.conn_ !== null && conn !== this.conn_ && this.snapshot.shown && joinedHere(this.snapshot.shown, this.self())) this.hangUpLocally();
    this.conn_ = conn ?? null;
  }

  /** The page closes: a call joined here is hung up (a socket that just drops keeps its place
   * for a while, for a reconnect). */
  pageClosing() {
    const call = this.snapshot.shown;
    if (call && call.state !== "ended" && joinedHere(call, this.self())) this.send({ type: "call_leave", call_id: call.id });
  }

  /** The socket dropped (or is reopening): nothing about calls goes out until the next
   * `welcome` (the links opened over the old socket stay quiet), and a call joined here shows
   * it reconnects. */
  socketDown() {
    this.welcomed = false;
    this.socketEpoch++;
    const shown = this.snapshot.shown;
    if (shown && shown.state !== "ended" && joinedHere(shown, this.self()) && !this.snapshot.reconnecting) this.set({ reconnecting: true });
  }

  frame(frame: CallFrame) {
    switch (frame.type) {
      case "call":
        return this.callFrame(frame.call);
      case "call_signal":
        return void this.signal(frame.from_conn, frame.call_id, frame.data);
      case "view_share": {
        const shown = this.snapshot.shown;
        if (!shown || shown.id !== frame.call_id) return;
        const view = afterViewShare(frame, this.ports.me());
        // Someone else took over: a view of ours still waiting in the throttle must not go
        // out after theirs and take the lead back.
        if (!view.leading) this.shareThrottle.cancel();
        // The call folds into its bar so the image shows (a notice instead when not allowed).
        const opens = !view.leading && view.allowed && view.target.id !== this.snapshot.shared?.target.id;
        this.set({ shared: view, ...(opens ? { minimized: true } : {}) });
        if (opens) this.ports.openShared(view, shown.conversation_id);
        return;
      }
      case "view_stop":
        return this.set({ shared: afterViewStop(this.snapshot.shared, frame) });
    }
  }

  /** A refusal from the server; true when it was about calls. */
  error(code: string): boolean {
    if (!CALL_ERRORS.has(code)) return false;
    // A frame that crossed the call's end (a candidate, the tiles' layers) is refused: no news.
    if (code === "call_not_found" && !this.asking && !this.resuming) return true;
    this.set({ problem: `call.error.${code}` });
    // The place could not be taken back (the grace ran out, or the session may not call).
    if (this.resuming) {
      this.resuming = null;
      this.conn_ = null;
      this.set({ reconnecting: false });
      this.hangUpLocally();
      return true;
    }
    // A start or join that was refused: nothing to show but the problem.
    if (this.asking) {
      this.asking = false;
      this.hangUpLocally();
    }
    return true;
  }

  private callFrame(call: CallInfo) {
    if (this.resuming && resumeSettled(call, this.resuming)) {
      this.conn_ = this.resuming.conn;
      this.resuming = null;
      this.set({ reconnecting: false });
      // A mute changed while away did not reach the server: say it now.
      const mine = call.participants.find((p) => p.conn === this.conn_);
      if (mine && (mine.audio !== this.snapshot.audio || mine.video !== this.snapshot.video)) this.sendMedia(call);
    }
    const self = this.self();
    const before = this.snapshot.shown;
    // A join on its way keeps its call shown until the server has it (a running group call);
    // a call of ours that comes back already over (busy) is shown with its reason.
    const ours = this.asking && (before?.id === call.id || (!before && this.startingIn === call.conversation_id && call.started_by === self.user));
    const shown = ours ? call : nextShown(before, call, self);
    if (shown?.state === "ended" || (shown && joinedHere(shown, self))) {
      this.asking = false;
      this.startingIn = null;
    }
    this.calls = trackCalls(this.calls, call);
    const screen = shown ? callScreen(shown, self) : null;
    this.set({ shown, screen, joinable: joinable(this.calls, self) });
    if (shown && shown.state === "ended" && before?.state !== "ended") this.ended();
    else if (!shown && before) this.stopMedia();
    else if (shown && joinedHere(shown, self) && !this.resuming) this.connect(shown);
  }

  private ended() {
    this.resuming = null;
    this.set({ reconnecting: false });
    this.stopMedia();
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = setTimeout(() => this.dismiss(), ENDED_MS);
  }

  /** The ended call's screen goes away. */
  dismiss() {
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = null;
    if (this.snapshot.shown?.state === "ended") this.set({ shown: null, screen: null, minimized: false, problem: null });
    else this.set({ problem: null });
  }

  // ---- the user's actions ----
  /** Calls a conversation's members. */
  start(conversation: Uuid, media: CallMedia) {
    if (this.snapshot.shown && this.snapshot.shown.state !== "ended") return;
    this.dismiss();
    this.set({ problem: null, minimized: false });
    this.acquire(media);
    this.asking = true;
    this.startingIn = conversation;
    if (!this.send({ type: "call_start", conversation_id: conversation, media })) {
      this.asking = false;
      this.releaseMedia();
      this.set({ problem: "call.error.offline" });
    }
  }

  /** Answers the ringing call (or joins a running group call). */
  accept(media: CallMedia, call: CallInfo | null = this.snapshot.shown) {
    if (!call) return;
    if (call !== this.snapshot.shown) this.set({ shown: call, screen: callScreen(call, this.self()) });
    this.set({ minimized: false, problem: null });
    this.acquire(media);
    this.asking = true;
    this.send({ type: "call_join", call_id: call.id, media });
  }

  decline() {
    const call = this.snapshot.shown;
    if (!call) return;
    this.send({ type: "call_decline", call_id: call.id });
    this.hangUpLocally();
  }

  /** Hangs up (or cancels a call that still rings). */
  leave() {
    const call = this.snapshot.shown;
    if (!call) return;
    if (call.state !== "ended") this.send({ type: "call_leave", call_id: call.id });
    this.hangUpLocally();
  }

  private hangUpLocally() {
    this.stopMedia();
    this.shareThrottle.cancel();
    this.set({ shown: null, screen: null, minimized: false, shared: null });
  }

  setAudio(on: boolean) {
    this.snapshot.local?.getAudioTracks().forEach((t) => (t.enabled = on));
    this.set({ audio: on });
    this.sendMedia();
  }

  async setVideo(on: boolean) {
    const local = this.snapshot.local;
    if (on && local && local.getVideoTracks().length === 0) {
      // An audio call turns its camera on: a new track, negotiated on every link.
      try {
        const cam = await navigator.mediaDevices.getUserMedia({ video: cameraConstraints(this.snapshot.facing) });
        const track = cam.getVideoTracks()[0];
        local.addTrack(track);
        for (const p of this.peers.values()) void p.then((peer) => this.addVideo(peer, track, local));
        this.set({ local: new MediaStream(local.getTracks()) });
      } catch {
        return this.set({ problem: "call.error.media" });
      }
    }
    this.snapshot.local?.getVideoTracks().forEach((t) => (t.enabled = on));
    this.set({ video: on });
    this.sendMedia();
  }

  /** Front and back camera. */
  async switchCamera() {
    const local = this.snapshot.local;
    const old = local?.getVideoTracks()[0];
    if (!local || !old) return;
    const facing: Facing = this.snapshot.facing === "user" ? "environment" : "user";
    try {
      old.stop();
      const cam = await navigator.mediaDevices.getUserMedia({ video: cameraConstraints(facing) });
      const track = cam.getVideoTracks()[0];
      track.enabled = this.snapshot.video;
      local.removeTrack(old);
      local.addTrack(track);
      for (const p of this.peers.values()) {
        const peer = await p;
        await Promise.all(peer.pc.getSenders().filter((s) => s.track === old || s.track?.kind === "video").map((s) => s.replaceTrack(track)));
      }
      this.set({ facing, local: new MediaStream(local.getTracks()) });
    } catch {
      this.set({ problem: "call.error.media" });
    }
  }

  /** The network came back or changed: ICE restarts on every link, without hanging up. */
  restartIce() {
    for (const p of this.peers.values()) void p.then((peer) => peer.pc.restartIce());
  }

  minimize(on: boolean) {
    this.set({ minimized: on });
  }

  private sendMedia(call = this.snapshot.shown) {
    if (call && call.state !== "ended") this.send({ type: "call_media", call_id: call.id, audio: this.snapshot.audio, video: this.snapshot.video });
  }

  /** Sends a call frame over a welcomed socket; false when it could not go out. */
  private send(frame: CallClientFrame): boolean {
    return this.welcomed && this.ports.send(frame);
  }

  /** Group calls: what each shown tile needs (sent when it changes). */
  layers(wants: LayerWant[]) {
    const call = this.snapshot.shown;
    if (!call || call.mode !== "sfu") return;
    const key = JSON.stringify(wants);
    if (key === this.lastLayers) return;
    if (this.send({ type: "call_layers", call_id: call.id, wants })) this.lastLayers = key;
  }

  /** The mid of the video coming from `conn` through the SFU, when known. */
  midOf(conn: string): Promise<string | undefined> {
    const p = this.peers.get(SFU);
    return p ? p.then((peer) => Object.entries(peer.mids).find(([, c]) => c === conn)?.[0]) : Promise.resolve(undefined);
  }

  // ---- shared view ----
  /** This user shows `target` to the call (or takes over), with the view as it is. */
  share(target: ViewTarget, state: ViewState) {
    const call = this.snapshot.shown;
    if (!call || call.state === "ended") return;
    this.set({ shared: takeOver(this.snapshot.shared, call.id, this.ports.me(), target, state), minimized: true });
    this.shareThrottle.push({ target, state });
  }

  /** The leader's view changed (throttled to 20 frames a second, the last always sent). */
  shareState(state: ViewState) {
    const shared = this.snapshot.shared;
    if (!shared?.leading) return;
    const next = { ...shared.state, ...state };
    if (changedFields(shared.state, next).length === 0) return;
    this.set({ shared: { ...shared, state: next } });
    this.shareThrottle.push({ target: shared.target, state: next });
  }

  stopSharing() {
    const call = this.snapshot.shown;
    this.shareThrottle.cancel();
    if (call && this.snapshot.shared?.leading) this.send({ type: "view_stop", call_id: call.id });
    this.set({ shared: null });
  }

  /** Locking or signing out: a call joined here ends here (the server ends it when the socket
   * closes). A call that only rings here is not declined: the user did not decline it, their
   * other devices (and the push) ring on, and it rings here again once unlocked. */
  reset() {
    const call = this.snapshot.shown;
    if (call && call.state !== "ended" && joinedHere(call, this.self())) this.send({ type: "call_leave", call_id: call.id });
    this.stopMedia();
    this.shareThrottle.cancel();
    if (this.endTimer) clearTimeout(this.endTimer);
    this.calls = {};
    this.conn_ = null;
    this.resuming = null;
    this.snapshot = empty();
    this.listeners.forEach((l) => l());
  }

  // ---- media ----
  private acquire(media: CallMedia) {
    const facing = this.snapshot.facing;
    this.set({ audio: true, video: media === "video" });
    this.localReady ??= navigator.mediaDevices
      .getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: media === "video" ? cameraConstraints(facing) : false })
      .then((stream) => {
        this.set({ local: stream });
        return stream;
      })
      .catch(() => {
        this.set({ problem: "call.error.media" });
        return null;
      });
  }

  private releaseMedia() {
    const ready = this.localReady;
    this.localReady = null;
    void ready?.then((s) => s?.getTracks().forEach((t) => t.stop()));
    this.snapshot.local?.getTracks().forEach((t) => t.stop());
    this.set({ local: null });
  }

  private stopMedia() {
    this.closeLinks();
    this.ice = null;
    this.releaseMedia();
  }

  /** Closes every peer connection (the local media stays). */
  private closeLinks() {
    for (const p of this.peers.values()) void p.then((peer) => peer.pc.close()).catch(() => undefined);
    this.peers.clear();
    this.lastLayers = "";
    this.set({ remotes: {}, links: {} });
  }

  private iceServers(): Promise<RTCIceServer[]> {
    this.ice ??= request<{ urls: string[]; username: string; credential: string; ttl: number }>("GET", "/api/v1/calls/turn").then(
      (t) => [{ urls: t.urls, username: t.username, credential: t.credential }],
      // Not configured (404): host candidates only, which is what loopback and a LAN need.
      (e) => (e instanceof ApiError && e.status === 404 ? [] : []),
    );
    return this.ice;
  }

  // ---- links ----
  /** Opens the links the shown call needs: the other socket (1:1) or the SFU (group). */
  private connect(call: CallInfo) {
    const self = this.self();
    const me = call.participants.find((p) => p.conn === self.conn);
    if (!me || call.state === "ended") return;
    if (call.mode === "sfu") return void this.peer(call, SFU, true);
    const other = call.participants.find((p) => p.conn !== self.conn);
    // The other side left or came back on a new socket: the old link goes.
    for (const conn of [...this.peers.keys()]) {
      if (conn !== other?.conn) {
        void this.peers.get(conn)?.then((p) => p.pc.close());
        this.peers.delete(conn);
        const { [conn]: _gone, ...remotes } = this.snapshot.remotes;
        this.set({ remotes });
      }
    }
    // The caller's side offers; the joiner (polite) opens its link when that offer comes, and
    // answers with its tracks (no first offer from both sides at once).
    if (other && !politeTowards(me, other)) void this.peer(call, other.conn, false);
  }

  private peer(call: CallInfo, conn: string, polite: boolean): Promise<Peer> {
    let p = this.peers.get(conn);
    if (!p) {
      p = this.openPeer(call, conn, polite);
      this.peers.set(conn, p);
    }
    return p;
  }

  private async openPeer(call: CallInfo, conn: string, polite: boolean): Promise<Peer> {
    // Signals go only over the socket the link was opened under: after a drop its offers and
    // candidates (an ICE restart, a late candidate) would reach the server from a socket not
    // yet in the call, be refused, and end the resume.
    const epoch = this.socketEpoch;
    const [iceServers, local] = await Promise.all([this.iceServers(), this.localReady ?? Promise.resolve(null)]);
    const pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
    const send = (data: SignalData) => void (epoch === this.socketEpoch && this.send({ type: "call_signal", call_id: call.id, to_conn: conn, data }));
    const negotiator = new Negotiator(pc, polite, send, (e) => console.warn("call negotiation", e));
    const peer: Peer = { conn, pc, negotiator, mids: {} };
    pc.onnegotiationneeded = () => void negotiator.negotiationNeeded();
    pc.onicecandidate = (e) => e.candidate && negotiator.candidate(e.candidate.toJSON());
    pc.onconnectionstatechange = () => {
      this.set({ links: { ...this.snapshot.links, [conn]: pc.connectionState } });
    };
    // A network change: ICE restarts without hanging up (the offer goes through the pattern).
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === "failed") pc.restartIce();
    };
    // Self-heal: the descriptions agree but ICE never started (candidates lost in a
    // collision): the side that does not yield restarts ICE, which negotiates anew.
    const watchdog = setInterval(() => {
      if (pc.connectionState === "closed") return clearInterval(watchdog);
      if (pc.signalingState === "stable" && pc.remoteDescription && pc.iceConnectionState === "new" && (!polite || conn === SFU)) pc.restartIce();
    }, 4_000);
    pc.ontrack = (e) => {
      // 1:1: everything is the other socket's. Group: the SFU names the sender in the stream id.
      const from = conn === SFU ? (e.streams[0]?.id ?? `mid:${e.transceiver.mid}`) : conn;
      if (conn === SFU && e.track.kind === "video" && e.transceiver.mid) peer.mids[e.transceiver.mid] = from;
      const stream = this.snapshot.remotes[from] ?? new MediaStream();
      if (!stream.getTracks().includes(e.track)) stream.addTrack(e.track);
      e.track.onended = () => stream.removeTrack(e.track);
      this.set({ remotes: { ...this.snapshot.remotes, [from]: stream } });
    };
    const addTracks = () => {
      if (local) {
        for (const track of local.getAudioTracks()) pc.addTrack(track, local);
        for (const track of local.getVideoTracks()) this.addVideo(peer, track, local);
      }
      // Receive the other side even without a microphone or camera of one's own (which also
      // makes the first offer when there is nothing to send).
      if (!polite || conn === SFU) {
        if (!local?.getAudioTracks().length) pc.addTransceiver("audio", { direction: "recvonly" });
        if (!local?.getVideoTracks().length) pc.addTransceiver("video", { direction: "recvonly" });
      }
    };
    if (polite && conn !== SFU) negotiator.beforeAnswer = addTracks;
    else addTracks();
    return peer;
  }

  private addVideo(peer: Peer, track: MediaStreamTrack, stream: MediaStream) {
    if (peer.conn === SFU) peer.pc.addTransceiver(track, { direction: "sendrecv", streams: [stream], sendEncodings: SIMULCAST });
    else peer.pc.addTrack(track, stream);
  }

  private async signal(from: string, callId: Uuid, data: SignalData | { error: { code: string; message: string } }) {
    // The SFU answers a signal it cannot use with an error; the call goes on.
    if ("error" in data) return console.warn("call relay refused a signal", data.error);
    if (!("description" in data) && !("candidate" in data)) return;
    const call = this.snapshot.shown;
    if (!call || call.id !== callId || call.state === "ended") return;
    const self = this.self();
    const me = call.participants.find((p) => p.conn === self.conn);
    if (!me) return;
    let polite = true;
    if (from !== SFU) {
      const other = call.participants.find((p) => p.conn === from);
      // A signal can overtake the `call` frame that names its sender: the joiner is polite.
      polite = other ? politeTowards(me, other) : call.started_by !== self.user;
    }
    const peer = await this.peer(call, from, polite);
    await peer.negotiator.receive(data);
  }
}

function cameraConstraints(facing: Facing): MediaTrackConstraints {
  return { facingMode: facing, width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
}

function empty(): CallSnapshot {
  return {
    shown: null,
    screen: null,
    joinable: {},
    local: null,
    remotes: {},
    links: {},
    audio: true,
    video: true,
    facing: "user",
    minimized: false,
    shared: null,
    reconnecting: false,
    problem: null,
  };
}

//! Perfect negotiation (W3C WebRTC, §10.7) over a peer connection: either side may offer at
//! any time; on a collision the impolite side ignores the other's offer and the polite side
//! rolls its own back and answers. Written over a small interface so it runs against a fake.

/** What `call_signal` carries: a session description or an ICE candidate (null: no more). */
export type SignalData = { description: RTCSessionDescriptionInit } | { candidate: RTCIceCandidateInit | null };

/** The part of RTCPeerConnection the pattern uses. */
export interface PeerLike {
  readonly signalingState: RTCSignalingState;
  readonly localDescription: { type: RTCSdpType; sdp: string } | null;
  setLocalDescription(description?: RTCSessionDescriptionInit): Promise<void>;
  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void>;
  addIceCandidate(candidate: RTCIceCandidateInit | null): Promise<void>;
}

export class Negotiator {
  /** an offer of ours is being made (its setLocalDescription has not finished) */
  makingOffer = false;
  /** the last offer from the other side collided with ours and was ignored (impolite side) */
  ignoreOffer = false;
  private settingRemoteAnswer = false;
  /** candidates that came while an offer was ignored: the answer that follows may reuse their
   * ICE credentials (a browser does not gather again after a rollback), so they are tried then */
  private deferred: RTCIceCandidateInit[] = [];
  /** descriptions and candidates are handled one at a time, in the order they came */
  private queue: Promise<void> = Promise.resolve();
  /** Runs once, between applying the first offer and answering it: the answering side adds its
   * tracks there, so its answer carries them and it never makes a first offer of its own
   * (a browser that rolls back a first offer can be left without ICE candidates). */
  beforeAnswer: (() => void) | null = null;

  constructor(
    private pc: PeerLike,
    readonly polite: boolean,
    private send: (data: SignalData) => void,
    private fail: (error: unknown) => void = () => undefined,
  ) {}

  /** The peer connection's `negotiationneeded`: make and send an offer. */
  async negotiationNeeded(): Promise<void> {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      if (this.pc.localDescription) this.send({ description: this.descriptionOf(this.pc.localDescription) });
    } catch (e) {
      this.fail(e);
    } finally {
      this.makingOffer = false;
    }
  }

  /** The peer connection's `icecandidate`. */
  candidate(candidate: RTCIceCandidateInit | null): void {
    this.send({ candidate });
  }

  /** A `call_signal` from the other side. */
  receive(data: SignalData): Promise<void> {
    this.queue = this.queue.then(() => this.handle(data)).catch((e) => this.fail(e));
    return this.queue;
  }

  private async handle(data: SignalData): Promise<void> {
    if ("description" in data) {
      const description = data.description;
      const readyForOffer = !this.makingOffer && (this.pc.signalingState === "stable" || this.settingRemoteAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      // The polite side's own offer is rolled back by applying the other's (implicit rollback:
      // an explicit one here would fire negotiationneeded in the middle of answering).
      this.settingRemoteAnswer = description.type === "answer";
      try {
        await this.pc.setRemoteDescription(description);
      } finally {
        this.settingRemoteAnswer = false;
      }
      await this.retryDeferred();
      if (description.type === "offer") {
        const hook = this.beforeAnswer;
        this.beforeAnswer = null;
        hook?.();
        await this.pc.setLocalDescription();
        if (this.pc.localDescription) this.send({ description: this.descriptionOf(this.pc.localDescription) });
      }
      return;
    }
    try {
      await this.pc.addIceCandidate(data.candidate);
    } catch (e) {
      // Candidates of an offer we ignored fail here; they may fit the answer to come.
      if (!this.ignoreOffer) throw e;
      if (data.candidate) this.deferred.push(data.candidate);
    }
  }

  private async retryDeferred() {
    const list = this.deferred;
    this.deferred = [];
    for (const c of list) await this.pc.addIceCandidate(c).catch(() => undefined);
  }

  private descriptionOf(d: { type: RTCSdpType; sdp: string }): RTCSessionDescriptionInit {
    return { type: d.type, sdp: d.sdp };
  }
}

import { describe, expect, it } from "vitest";
import { Negotiator, type PeerLike, type SignalData } from "./negotiation";

/** A peer connection's signalling state machine (JSEP), without media. */
class FakePeer implements PeerLike {
  signalingState: RTCSignalingState = "stable";
  localDescription: { type: RTCSdpType; sdp: string } | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  /** every remote description applied, in order */
  remotes: (string | undefined)[] = [];
  candidates: (RTCIceCandidateInit | null)[] = [];
  rollbacks = 0;
  private offers = 0;
  constructor(private name: string) {}

  async setLocalDescription(d?: RTCSessionDescriptionInit): Promise<void> {
    await tick();
    if (d?.type === "rollback") {
      if (this.signalingState !== "have-local-offer") throw new Error(`rollback in ${this.signalingState}`);
      this.rollbacks++;
      this.signalingState = "stable";
      this.localDescription = null;
      return;
    }
    if (this.signalingState === "stable") {
      this.localDescription = { type: "offer", sdp: `offer-${this.name}-${++this.offers}` };
      this.signalingState = "have-local-offer";
    } else if (this.signalingState === "have-remote-offer") {
      this.localDescription = { type: "answer", sdp: `answer-${this.name}-to-${this.remoteDescription?.sdp}` };
      this.signalingState = "stable";
    } else throw new Error(`setLocalDescription in ${this.signalingState}`);
  }

  async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
    await tick();
    if (d.type === "offer") {
      if (this.signalingState === "have-local-offer") this.rollbacks++; // the implicit rollback
      else if (this.signalingState !== "stable") throw new Error(`offer in ${this.signalingState}`);
      this.signalingState = "have-remote-offer";
    } else if (d.type === "answer") {
      if (this.signalingState !== "have-local-offer") throw new Error(`answer in ${this.signalingState}`);
      this.signalingState = "stable";
    }
    this.remoteDescription = d;
    this.remotes.push(d.sdp);
  }

  async addIceCandidate(c: RTCIceCandidateInit | null): Promise<void> {
    await tick();
    if (!this.remoteDescription) throw new Error("candidate before a remote description");
    this.candidates.push(c);
  }
}

const tick = () => new Promise<void>((ok) => setTimeout(ok, 0));
/** Lets every step on its way finish: a number of timer turns, not wall time (a busy machine). */
const settle = async () => {
  for (let i = 0; i < 100; i++) await tick();
};

/** Two sides wired to each other through a network that delivers in order, later. */
function pair() {
  const a = new FakePeer("a");
  const b = new FakePeer("b");
  const errors: unknown[] = [];
  const sent: { from: string; data: SignalData }[] = [];
  let na: Negotiator;
  let nb: Negotiator;
  const wire = (from: string, to: () => Negotiator) => (data: SignalData) => {
    sent.push({ from, data });
    setTimeout(() => void to().receive(data), 1);
  };
  na = new Negotiator(a, false, wire("a", () => nb), (e) => errors.push(e));
  nb = new Negotiator(b, true, wire("b", () => na), (e) => errors.push(e));
  return { a, b, na, nb, errors, sent };
}

describe("perfect negotiation", () => {
  it("one side offers, the other answers, both end stable", async () => {
    const { a, b, na, errors } = pair();
    await na.negotiationNeeded();
    await settle();
    expect(errors).toEqual([]);
    expect(a.signalingState).toBe("stable");
    expect(b.signalingState).toBe("stable");
    expect(b.remoteDescription?.sdp).toBe("offer-a-1");
    expect(a.remoteDescription?.sdp).toBe("answer-b-to-offer-a-1");
  });

  it("glare: both offer at once; the impolite side's offer wins, the polite side rolls back", async () => {
    const { a, b, na, nb, errors, sent } = pair();
    void na.negotiationNeeded();
    void nb.negotiationNeeded();
    await settle();
    expect(errors).toEqual([]);
    // The impolite side never applied the polite side's offer.
    expect(a.remotes).toEqual(["answer-b-to-offer-a-1"]);
    expect(b.rollbacks).toBe(1);
    expect(a.signalingState).toBe("stable");
    expect(b.signalingState).toBe("stable");
    expect(b.remoteDescription?.sdp).toBe("offer-a-1");
    expect(a.remoteDescription?.sdp).toBe("answer-b-to-offer-a-1");
    expect(sent.filter((s) => "description" in s.data && s.data.description.type === "answer").map((s) => s.from)).toEqual(["b"]);
  });

  it("the polite side may offer again after the collision (its tracks still need negotiating)", async () => {
    const { a, b, na, nb, errors } = pair();
    void na.negotiationNeeded();
    void nb.negotiationNeeded();
    await settle();
    await nb.negotiationNeeded();
    await settle();
    expect(errors).toEqual([]);
    expect(a.remoteDescription?.sdp).toBe("offer-b-2");
    expect(b.remoteDescription?.sdp).toBe("answer-a-to-offer-b-2");
    expect([a.signalingState, b.signalingState]).toEqual(["stable", "stable"]);
  });

  it("glare: the polite side's candidates that came with its ignored offer are used with its answer", async () => {
    const { a, na, nb, sent } = pair();
    void na.negotiationNeeded();
    void nb.negotiationNeeded();
    // The polite side's candidate, sent right after its (to be ignored) offer.
    while (!sent.some((x) => x.from === "b")) await tick();
    nb.candidate({ candidate: "candidate:9 1 udp 1 192.0.2.2 5000 typ host", sdpMid: "0" });
    await settle();
    expect(a.signalingState).toBe("stable");
    expect(a.candidates).toEqual([{ candidate: "candidate:9 1 udp 1 192.0.2.2 5000 typ host", sdpMid: "0" }]);
  });

  it("the answering side adds its tracks between the offer and its answer, once", async () => {
    const { a, b, na, nb } = pair();
    const order: string[] = [];
    nb.beforeAnswer = () => order.push(`tracks in ${b.signalingState}`);
    await na.negotiationNeeded();
    await settle();
    await na.negotiationNeeded();
    await settle();
    expect(order).toEqual(["tracks in have-remote-offer"]);
    expect([a.signalingState, b.signalingState]).toEqual(["stable", "stable"]);
  });

  it("candidates of an ignored offer fail quietly; others are reported", async () => {
    const { na, errors } = pair();
    // Before any description: the candidate cannot be added and is reported.
    await na.receive({ candidate: { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0" } });
    expect(errors).toHaveLength(1);
    na.ignoreOffer = true;
    await na.receive({ candidate: { candidate: "candidate:2 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0" } });
    expect(errors).toHaveLength(1);
  });

  it("handles what arrives in order, even while the previous one is still being applied", async () => {
    const { a, na } = pair();
    // An offer and its candidates arrive together: the candidates wait for the description.
    void na.receive({ description: { type: "offer", sdp: "offer-x" } });
    void na.receive({ candidate: { candidate: "c1", sdpMid: "0" } });
    await na.receive({ candidate: null });
    expect(a.candidates).toEqual([{ candidate: "c1", sdpMid: "0" }, null]);
    expect(a.signalingState).toBe("stable");
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CLOSE_LOCKED, CLOSE_SIGNED_OUT, PING_MS, ServerSocket, type SocketHandlers } from "./socket";

/** A stand-in for the browser's WebSocket: records what is sent, opens and closes on demand. */
class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  closedWith: number | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close(code: number) {
    this.closedWith = code;
  }
  // The server's side:
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function handlers(): SocketHandlers & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    positions: () => ({ c: 7 }),
    activeSince: () => true,
    frame: (f) => log.push(`frame ${f.type}`),
    status: (s) => log.push(s),
    locked: () => log.push("locked"),
    signedOut: () => log.push("signedOut"),
  };
}

const last = () => FakeSocket.all[FakeSocket.all.length - 1];

describe("the server socket", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
    FakeSocket.all = [];
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("says hello with the positions it has, and passes frames on", () => {
    const h = handlers();
    const socket = new ServerSocket(h, () => "ws://test/ws");
    socket.start();
    expect(h.log).toEqual(["connecting"]);
    last().open();
    expect(last().sent).toEqual([{ type: "hello", positions: { c: 7 } }]);
    last().receive({ type: "synced" });
    expect(h.log).toEqual(["connecting", "frame synced"]);
    expect(socket.send({ type: "typing", conversation_id: "c" })).toBe(true);
  });

  it("does not send while not open", () => {
    const socket = new ServerSocket(handlers(), () => "ws://test/ws");
    socket.start();
    expect(socket.send({ type: "typing", conversation_id: "c" })).toBe(false);
    expect(last().sent).toEqual([]);
  });

  it("reopens after a drop with growing delays, starting over once synced", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const h = handlers();
    const socket = new ServerSocket(h, () => "ws://test/ws");
    socket.start();
    last().drop();
    expect(h.log).toEqual(["connecting", "offline"]);
    vi.advanceTimersByTime(999);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    last().drop();
    vi.advanceTimersByTime(1_999);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3);
    socket.synced();
    last().drop();
    vi.advanceTimersByTime(1_000);
    expect(FakeSocket.all).toHaveLength(4);
  });

  it("reopens at once when asked, not twice", () => {
    const socket = new ServerSocket(handlers(), () => "ws://test/ws");
    socket.start();
    last().drop();
    socket.reconnectNow();
    expect(FakeSocket.all).toHaveLength(2);
    socket.reconnectNow();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it("gives up on a locked or ended session, leaving it to the session", () => {
    const h = handlers();
    const socket = new ServerSocket(h, () => "ws://test/ws");
    socket.start();
    last().drop(CLOSE_LOCKED);
    socket.start();
    last().drop(CLOSE_SIGNED_OUT);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(h.log.filter((l) => l === "locked" || l === "signedOut")).toEqual(["locked", "signedOut"]);
  });

  it("after stop, nothing reaches the handlers and nothing reopens", () => {
    const h = handlers();
    const socket = new ServerSocket(h, () => "ws://test/ws");
    socket.start();
    const first = last();
    first.open();
    socket.stop();
    expect(first.closedWith).toBe(1000);
    first.receive({ type: "synced" });
    first.drop();
    socket.reconnectNow();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(h.log).toEqual(["connecting"]);
  });

  it("pings while open, saying whether the user was active", () => {
    const socket = new ServerSocket(handlers(), () => "ws://test/ws");
    socket.start();
    last().open();
    vi.advanceTimersByTime(PING_MS);
    expect(last().sent).toEqual([{ type: "hello", positions: { c: 7 } }, { type: "ping", active: true }]);
  });
});

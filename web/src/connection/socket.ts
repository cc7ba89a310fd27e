// The WebSocket to the server: opened with a hello naming what this client has, pinged while
// open, reopened after a drop with a growing delay, and closed for good on a lock or sign-out.

import { backoff } from "../state/idle";
import type { Uuid } from "../types";
import type { ClientFrame, ServerFrame } from "./frames";

/** How often an open socket pings (which also tells the server whether the user is active). */
export const PING_MS = 25_000;

/** The server closed the socket because the session is locked. */
export const CLOSE_LOCKED = 4023;
/** The session ended, or the hello was refused because of the account's state. */
export const CLOSE_SIGNED_OUT = 4001;
/** This client closes with it when the browser goes offline. */
export const CLOSE_OFFLINE = 4000;

export interface SocketHandlers {
  /** The hello's positions: the newest seq this client has of each conversation. */
  positions(): Record<Uuid, number>;
  /** Whether the user did something since `since` (epoch ms), as each ping reports. */
  activeSince(since: number): boolean;
  frame(frame: ServerFrame): void;
  /** A socket is opening, or the last one dropped and the next waits its turn. */
  status(status: "connecting" | "offline"): void;
  /** The server closed it: the session is locked (CLOSE_LOCKED). */
  locked(): void;
  /** The server closed it: the session ended or the account may not connect (CLOSE_SIGNED_OUT). */
  signedOut(): void;
}

/** The socket's address on this page's server. */
export function socketUrl(): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws`;
}

export class ServerSocket {
  private socket: WebSocket | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private attempts = 0;
  private lastPing = 0;

  constructor(
    private handlers: SocketHandlers,
    private url: () => string = socketUrl,
  ) {}

  /** Opens the socket and keeps it open (reopening after drops) until `stop`. */
  start(): void {
    this.stop();
    this.lastPing = Date.now();
    this.pinger = setInterval(() => this.ping(), PING_MS);
    this.connect();
  }

  /** Closes it for good: no frame, drop or retry reaches the handlers after this. */
  stop(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.attempts = 0;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close(1000, "bye");
    }
  }

  /** The server has replayed what was missed: the next drop starts the delays over. */
  synced(): void {
    this.attempts = 0;
  }

  /** Reopens now instead of after the delay (the browser came back online, or the user asked). */
  reconnectNow(): void {
    if (!this.pinger || this.socket) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.connect();
  }

  /** The network is gone: closes at once instead of waiting for the socket to notice. */
  offline(): void {
    this.socket?.close(CLOSE_OFFLINE, "offline");
  }

  /** Whether a frame sent now goes out. */
  isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends `frame` when the socket is open; false when it is not. */
  send(frame: ClientFrame): boolean {
    if (!this.socket || !this.isOpen()) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private ping() {
    if (!this.isOpen()) return;
    const active = this.handlers.activeSince(this.lastPing);
    this.lastPing = Date.now();
    this.send({ type: "ping", active });
  }

  private connect() {
    const socket = new WebSocket(this.url());
    this.socket = socket;
    this.handlers.status("connecting");
    socket.onopen = () => {
      if (this.socket === socket) socket.send(JSON.stringify({ type: "hello", positions: this.handlers.positions() } satisfies ClientFrame));
    };
    socket.onmessage = (e) => {
      if (this.socket !== socket) return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      this.handlers.frame(frame);
    };
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (e.code === CLOSE_LOCKED) return this.handlers.locked();
      if (e.code === CLOSE_SIGNED_OUT) return this.handlers.signedOut();
      this.handlers.status("offline");
      this.attempts++;
      this.retry = setTimeout(() => this.connect(), backoff(this.attempts));
    };
  }
}

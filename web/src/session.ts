// The app's session: the sign-in phases and the idle lock, wiring the store (state/store), the
// connection (connection/*) and the chat's parts (chat/*) together. Nothing is persisted: a
// lock or sign-out drops every piece of data from memory and closes the socket.

import { api, ApiError, onAuthProblem } from "./api";
import { ConversationList } from "./chat/conversations";
import { GroupActions } from "./chat/groupActions";
import { LiveUpdates } from "./chat/live";
import { TimelineLoader } from "./chat/loading";
import { ReadMarker } from "./chat/markRead";
import { MessageActions } from "./chat/messageActions";
import { People } from "./chat/people";
import { Sender } from "./connection/sender";
import { ServerSocket } from "./connection/socket";
import { IdleTimer } from "./state/idle";
import { createPasskey, getPasskey } from "./state/passkey";
import { deferPasscode, forgetPasscodeDeferrals, passcodeDeferred } from "./state/passcodeLater";
import { phaseAfterAuth } from "./state/phase";
import { Positions } from "./state/positions";
import { Store, initialState, type State } from "./state/store";
import type { Me, Uuid } from "./types";
import { pushDevice } from "./push/device";
import { linkedConversation } from "./state/push";
import { CallController } from "./call/controller";
import { openShared } from "./call/follow";

/** The conversation a notification's tap opened the app at (`/?c=<id>`); the address is put
 * back to `/` at once so a reload or a shared screen does not keep it. */
function linkAtStart(): Uuid | null {
  if (typeof location === "undefined") return null;
  const id = linkedConversation(location.search);
  if (id) history.replaceState(null, "", "/");
  return id;
}

export class Session {
  readonly store = new Store();
  private positions = new Positions();
  private idle = new IdleTimer(10);
  private ticker: ReturnType<typeof setInterval> | null = null;
  private socket = new ServerSocket({
    positions: () => this.positions.snapshot(),
    activeSince: (since) => this.idle.activeSince(since),
    frame: (frame) => this.live.frame(frame),
    status: (connection) => {
      this.store.set({ connection });
      this.calls.socketDown();
    },
    locked: () => this.lock("server"),
    signedOut: () => void this.start(),
  });
  /** Sending messages (and their retries). */
  readonly sender = new Sender(
    {
      chats: () => this.store.state.chats,
      setChat: (id, update) => this.store.setChat(id, update),
      online: () => this.store.state.connection === "online",
      me: () => this.store.myId,
    },
    this.socket,
  );
  /** Names of the people met. */
  readonly people = new People(this.store);
  /** Read marks of what the user looks at. */
  readonly readMarker = new ReadMarker(this.store);
  /** The conversation list. */
  readonly conversations = new ConversationList(this.store, this.positions, this.people);
  /** Opening conversations and loading their pages. */
  readonly timelines = new TimelineLoader(this.store, this.positions, this.people, this.readMarker);
  /** Managing a conversation from its details. */
  readonly groups = new GroupActions(this.store, this.timelines, this.people, this.conversations);
  /** Editing and deleting messages, typing hints, receipts. */
  readonly messages = new MessageActions(this.store, this.socket);
  /** Calls: the shown call, its media and links, the shared view. */
  readonly calls = new CallController({
    send: (frame) => this.socket.send(frame),
    me: () => this.store.myId,
    openShared,
  });
  private live = new LiveUpdates({
    store: this.store,
    positions: this.positions,
    socket: this.socket,
    sender: this.sender,
    readMarker: this.readMarker,
    conversations: this.conversations,
    timelines: this.timelines,
    calls: this.calls,
  });

  /** A conversation to open once the app is ready (unlocked): from a notification's tap. */
  private pendingOpen: Uuid | null = linkAtStart();

  constructor() {
    void pushDevice.register();
    pushDevice.onOpen((id) => this.openFromNotification(id));
    onAuthProblem((error) => {
      if (error.status === 423) this.lock("server");
      else if (error.status === 401) this.signedOut();
    });
  }

  get state(): State {
    return this.store.state;
  }
  subscribe = this.store.subscribe;
  getState = this.store.getState;

  // ---- phases ----
  /** At app start: where does this browser's session stand? */
  async start(): Promise<void> {
    try {
      const me = await api.me();
      // Reopening the app with a passcode set shows the lock screen first.
      this.afterAuth(me, me.has_passcode);
    } catch (e) {
      if (e instanceof ApiError && e.status === 423) this.store.set({ phase: "locked", lockReason: "start" });
      else if (e instanceof ApiError && e.code === "second_factor_required") await this.owesSecondFactor();
      else this.store.set({ phase: "signedOut" });
    }
  }

  /** The session owes its second factor: the code step, or setting one up. */
  private async owesSecondFactor() {
    try {
      const status = await api.secondFactorStatus();
      this.teardown({ phase: status.enrolled || status.passkeys > 0 ? "secondFactor" : "enrollSecondFactor" });
    } catch {
      this.store.set({ phase: "signedOut" });
    }
  }

  /** After the second factor: the lock screen (a passcode is set), or the usual next steps. */
  private async afterSecondFactor() {
    try {
      this.afterAuth(await api.me(), false);
    } catch (e) {
      if (e instanceof ApiError && e.status === 423) this.store.set({ phase: "locked", lockReason: "start" });
      else throw e;
    }
  }

  private afterAuth(me: Me, lockFirst: boolean) {
    this.idle.setMinutes(me.organization.policy.idle_lock_minutes);
    const phase = phaseAfterAuth(me, lockFirst, passcodeDeferred(me.user.id));
    if (phase === "ready") return void this.enterReady(me);
    this.store.set({ me, phase, ...(phase === "locked" ? { lockReason: "start" as const } : {}) });
  }

  async login(login: string, password: string): Promise<void> {
    await this.signedIn(await api.login(login, password));
  }

  /** Signs in with a passkey, no password (its user verification is the second factor). */
  async loginWithPasskey(): Promise<void> {
    const ceremony = await api.passkeyChallenge();
    const credential = await getPasskey(ceremony.options as Record<string, unknown>);
    await this.signedIn(await api.passkeySignIn(ceremony.challenge_id, credential));
  }

  /** Passes this session's second factor with a passkey. */
  async verifyWithPasskey(): Promise<void> {
    const ceremony = await api.passkeyChallenge();
    const credential = await getPasskey(ceremony.options as Record<string, unknown>);
    await api.passkeySecondFactor(ceremony.challenge_id, credential);
    await this.afterSecondFactor();
  }

  /** Registers a new passkey named `name` on this device's authenticator. */
  async addPasskey(name: string) {
    const ceremony = await api.startPasskeyRegistration();
    const credential = await createPasskey(ceremony.options as Record<string, unknown>);
    return api.addPasskey(ceremony.challenge_id, name, credential);
  }

  /** Sets up a passkey as the second factor the session owes (or chose to set up). */
  async enrollPasskey(name: string): Promise<void> {
    await this.addPasskey(name);
    await this.afterSecondFactor();
  }

  private async signedIn(result: Awaited<ReturnType<typeof api.login>>): Promise<void> {
    forgetPasscodeDeferrals();
    if (result.second_factor === "verify") return this.store.set({ ...initialState(), phase: "secondFactor" });
    if (result.second_factor === "enroll") return this.store.set({ ...initialState(), phase: "enrollSecondFactor" });
    if (result.locked) return this.store.set({ phase: "locked", lockReason: "start" });
    this.afterAuth(await api.me(), false);
  }

  /** Enters the authenticator's code (or a recovery code) in this session. */
  async verifySecondFactor(code: string): Promise<void> {
    await api.verifySecondFactor(code);
    await this.afterSecondFactor();
  }

  /** A new secret to set up (replacing one not confirmed yet). */
  startEnrollment() {
    return api.startEnrollment();
  }

  /** Confirms the set-up with a first code; the recovery codes, to show once. */
  async confirmEnrollment(code: string): Promise<string[]> {
    const { recovery_codes } = await api.confirmEnrollment(code);
    return recovery_codes;
  }

  /** After the recovery codes were shown (or a voluntary set-up was cancelled). */
  async finishEnrollment(): Promise<void> {
    await this.afterSecondFactor();
  }

  /** Sets up a second factor though none is required (from the menu). */
  enrollVoluntarily() {
    if (this.state.phase !== "ready") return;
    this.teardown({ me: this.state.me, phase: "enrollSecondFactor", enrollVoluntary: true });
  }

  async changePassword(current: string, next: string): Promise<void> {
    await api.changePassword(current, next);
    this.afterAuth(await api.me(), false);
  }

  async setPasscode(passcode: string): Promise<void> {
    await api.setPasscode(passcode);
    this.afterAuth(await api.me(), false);
  }

  skipPasscode() {
    if (this.state.me) {
      deferPasscode(this.state.me.user.id);
      this.afterAuth(this.state.me, false);
    }
  }

  /** Opens the password or passcode screen from the menu; `cancelChange` comes back. */
  changeVoluntarily(phase: "changePassword" | "setPasscode") {
    if (this.state.phase !== "ready") return;
    this.teardown({ me: this.state.me, phase, changeVoluntary: true });
  }

  cancelChange() {
    if (this.state.me) void this.enterReady(this.state.me);
  }

  async unlock(passcode: string): Promise<void> {
    await api.unlock(passcode);
    this.afterAuth(await api.me(), false);
  }

  /** Hides everything: every piece of data leaves memory, the socket closes. */
  lock(reason: State["lockReason"]) {
    if (this.state.phase === "locked" || this.state.phase === "signedOut" || this.state.phase === "starting") return;
    if (!this.state.me?.has_passcode && reason !== "server") return;
    this.teardown({ phase: "locked", lockReason: reason, me: this.state.me });
  }

  async signOut(): Promise<void> {
    try {
      await api.logout();
    } catch {
      /* the session may already be gone */
    }
    this.signedOut();
  }

  private signedOut() {
    this.pendingOpen = null;
    pushDevice.badge(0);
    this.teardown({ phase: "signedOut" });
  }

  /** Stops the connection and the chat's work on its way, and drops all data but `keep`. */
  private teardown(keep: Partial<State>) {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.sender.clear();
    this.calls.reset();
    this.socket.stop();
    this.positions.clear();
    this.readMarker.clear();
    this.conversations.clear();
    this.store.reset(keep);
  }

  private async enterReady(me: Me) {
    this.teardown({ me, phase: "ready", connection: "connecting" });
    const generation = this.store.generation;
    this.idle.activity();
    this.ticker = setInterval(() => this.tick(), 1000);
    try {
      await this.conversations.load();
    } catch {
      /* shown as an empty list with the offline banner; the socket retries */
    }
    if (generation !== this.store.generation) return;
    this.socket.start();
    void this.people.loadDirectory(me);
    this.openPending();
    void pushDevice.sync();
  }

  // ---- notifications ----
  /** A notification was tapped while the app is open: its conversation opens now, or after
   * the passcode when the app is locked. */
  openFromNotification(id: Uuid | null) {
    if (!id) return;
    this.pendingOpen = id;
    if (this.state.phase === "ready") this.openPending();
  }

  private openPending() {
    const id = this.pendingOpen;
    this.pendingOpen = null;
    if (!id || this.state.phase !== "ready") return;
    if (this.state.selected === null) history.pushState({ c: true }, "");
    this.timelines.select(id);
  }

  // ---- the idle lock and the network ----
  /** Activity from the user: keeps the idle lock away. */
  activity() {
    this.idle.activity();
  }

  private tick() {
    if (this.state.phase !== "ready") return;
    if (this.idle.expired()) return this.lock("idle");
    this.live.expireTyping(Date.now());
  }

  /** Reconnect now (the browser came back online, or the user asked). */
  reconnectNow() {
    if (this.state.phase === "ready") this.socket.reconnectNow();
  }

  setOnline(online: boolean) {
    this.store.set({ online });
    if (online) this.reconnectNow();
    if (online) this.calls.restartIce();
    // The network is gone: do not wait for the socket to notice (sends fall back to HTTP and
    // fail at once, visibly, with retry).
    else this.socket.offline();
  }
}

export const session = new Session();

// The app's state and its connection to the server: sign-in phases, the conversation list,
// loaded timelines, pending sends, the WebSocket with catch-up, and the idle lock.
// Nothing here is persisted: a lock or sign-out drops every piece of data from memory.

import { deferPasscode, forgetPasscodeDeferrals, passcodeDeferred } from "./state/passcodeLater";
import { inboxChanged } from "./state/inboxLive";
import { asUser, searchDirectory } from "./cooperation/api";
import { api, ApiError, onAuthProblem, type OutgoingMessage } from "./api";
import { chatApi } from "./chatApi";
import { backoff, IdleTimer } from "./state/idle";
import { failureOf, markFailed, resendAll, type Failure } from "./state/outbox";
import { Positions } from "./state/positions";
import {
  applyReceipt,
  mergeMessages,
  newClientMsgId,
  readMarksOf,
  settle,
  type Pending,
} from "./state/timeline";
import type { Attachment, Conversation, Me, Message, NotifyLevel, ServerFrame, TimelineEvent, User, Uuid } from "./types";

export type Phase =
  | "starting"
  | "signedOut"
  | "secondFactor"
  | "enrollSecondFactor"
  | "changePassword"
  | "setPasscode"
  | "locked"
  | "ready";
export type Connection = "connecting" | "online" | "offline";

export interface Chat {
  messages: Message[];
  loaded: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  pending: Pending[];
  members: Uuid[];
  readMarks: Record<Uuid, number>;
  /** user → time (ms) their typing indicator expires */
  typing: Record<Uuid, number>;
  error: boolean;
  /** a window around a found message is loaded: newer messages exist beyond it */
  hasNewer: boolean;
  loadingNewer: boolean;
  /** the message to scroll to and highlight (a search result); nonce: each request anew */
  focus: { seq: number; nonce: number } | null;
  /** member → their role in the group */
  roles: Record<Uuid, string>;
}

export interface State {
  phase: Phase;
  me: Me | null;
  conversations: Conversation[];
  listLoaded: boolean;
  chats: Record<Uuid, Chat>;
  users: Record<Uuid, User>;
  /** the other person of each direct conversation */
  peers: Record<Uuid, Uuid>;
  selected: Uuid | null;
  connection: Connection;
  online: boolean;
  /** why the lock screen shows: the session started locked, idle time, or the server said so */
  lockReason: "start" | "idle" | "server" | "manual" | null;
  /** enrolling a second factor of one's own will (may be cancelled), not because sign-in needs it */
  enrollVoluntary: boolean;
  /** changing one's password or passcode from the menu (may be cancelled) */
  changeVoluntary: boolean;
}

const emptyChat = (): Chat => ({
  messages: [],
  loaded: false,
  hasOlder: true,
  loadingOlder: false,
  pending: [],
  members: [],
  readMarks: {},
  typing: {},
  error: false,
  hasNewer: false,
  loadingNewer: false,
  focus: null,
  roles: {},
});

const initial = (): State => ({
  phase: "starting",
  me: null,
  conversations: [],
  listLoaded: false,
  chats: {},
  users: {},
  peers: {},
  selected: null,
  connection: "connecting",
  online: typeof navigator === "undefined" ? true : navigator.onLine,
  lockReason: null,
  enrollVoluntary: false,
  changeVoluntary: false,
});

const PAGE = 50;
const ACK_TIMEOUT_MS = 10_000;
const PING_MS = 25_000;
const TYPING_SHOW_MS = 6_000;
const TYPING_SEND_MS = 3_000;

function byActivity(a: Conversation, b: Conversation): number {
  const at = a.last_message?.created_at ?? a.updated_at;
  const bt = b.last_message?.created_at ?? b.updated_at;
  return bt.localeCompare(at);
}

export class Session {
  state: State = initial();
  private listeners = new Set<() => void>();
  private positions = new Positions();
  private idle = new IdleTimer(10);
  private socket: WebSocket | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private timers: ReturnType<typeof setInterval>[] = [];
  private lastPing = Date.now();
  private ackTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readInflight = new Set<Uuid>();
  private fetchingConversations = new Set<Uuid>();
  private lastTypingSent = 0;
  private generation = 0;

  constructor() {
    onAuthProblem((error) => {
      if (error.status === 423) this.lock("server");
      else if (error.status === 401) this.signedOut();
    });
  }

  // ---- subscription (useSyncExternalStore) ----
  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  getState = () => this.state;
  private set(patch: Partial<State>) {
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((l) => l());
  }
  private setChat(id: Uuid, update: (chat: Chat) => Partial<Chat>) {
    const chat = this.state.chats[id] ?? emptyChat();
    this.set({ chats: { ...this.state.chats, [id]: { ...chat, ...update(chat) } } });
  }
  private setConversation(id: Uuid, update: (c: Conversation) => Partial<Conversation>) {
    const list = this.state.conversations.map((c) => (c.id === id ? { ...c, ...update(c) } : c));
    this.set({ conversations: list.sort(byActivity) });
  }

  // ---- phases ----
  /** At app start: where does this browser's session stand? */
  async start(): Promise<void> {
    try {
      const me = await api.me();
      // Reopening the app with a passcode set shows the lock screen first.
      this.afterAuth(me, me.has_passcode);
    } catch (e) {
      if (e instanceof ApiError && e.status === 423) this.set({ phase: "locked", lockReason: "start" });
      else if (e instanceof ApiError && e.code === "second_factor_required") await this.owesSecondFactor();
      else this.set({ phase: "signedOut" });
    }
  }

  /** The session owes its second factor: the code step, or setting one up. */
  private async owesSecondFactor() {
    try {
      const status = await api.secondFactorStatus();
      this.teardown();
      this.set({ ...initial(), phase: status.enrolled ? "secondFactor" : "enrollSecondFactor" });
    } catch {
      this.set({ phase: "signedOut" });
    }
  }

  /** After the second factor: the lock screen (a passcode is set), or the usual next steps. */
  private async afterSecondFactor() {
    try {
      this.afterAuth(await api.me(), false);
    } catch (e) {
      if (e instanceof ApiError && e.status === 423) this.set({ phase: "locked", lockReason: "start" });
      else throw e;
    }
  }

  private afterAuth(me: Me, lockFirst: boolean) {
    this.idle.setMinutes(me.organization.policy.idle_lock_minutes);
    if (me.user.must_change_password) return this.set({ me, phase: "changePassword" });
    if (!me.has_passcode && (me.organization.policy.passcode_required || !passcodeDeferred(me.user.id)))
      return this.set({ me, phase: "setPasscode" });
    if (lockFirst) return this.set({ me, phase: "locked", lockReason: "start" });
    this.enterReady(me);
  }

  async login(login: string, password: string): Promise<void> {
    const result = await api.login(login, password);
    forgetPasscodeDeferrals();
    if (result.second_factor === "verify") return this.set({ ...initial(), phase: "secondFactor" });
    if (result.second_factor === "enroll") return this.set({ ...initial(), phase: "enrollSecondFactor" });
    if (result.locked) return this.set({ phase: "locked", lockReason: "start" });
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
    this.teardown();
    this.set({ ...initial(), me: this.state.me, phase: "enrollSecondFactor", enrollVoluntary: true });
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
    this.teardown();
    this.set({ ...initial(), me: this.state.me, phase, changeVoluntary: true });
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
    this.teardown();
    this.set({ ...initial(), phase: "locked", lockReason: reason, me: this.state.me });
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
    this.teardown();
    this.set({ ...initial(), phase: "signedOut" });
  }

  private teardown() {
    this.generation++;
    this.timers.forEach(clearInterval);
    this.timers = [];
    this.ackTimers.forEach(clearTimeout);
    this.ackTimers.clear();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close(1000, "bye");
    }
    this.positions.clear();
    this.readInflight.clear();
    this.fetchingConversations.clear();
  }

  private async enterReady(me: Me) {
    this.teardown();
    const generation = this.generation;
    this.set({ ...initial(), me, phase: "ready", connection: "connecting" });
    this.idle.activity();
    this.timers.push(setInterval(() => this.tick(), 1000));
    this.timers.push(setInterval(() => this.ping(), PING_MS));
    try {
      await this.loadConversations();
    } catch {
      /* shown as an empty list with the offline banner; the socket retries */
    }
    if (generation !== this.generation) return;
    this.connect();
    this.loadDirectory(me);
  }

  private async loadConversations() {
    const list = await api.conversations();
    for (const c of list) this.positions.observe(c.id, c.last_seq);
    this.set({ conversations: list.sort(byActivity), listLoaded: true });
    for (const c of list) if (c.kind === "direct") void this.loadPeer(c.id);
  }

  /** Who the other person of a direct conversation is (its title is their name). */
  private async loadPeer(id: Uuid) {
    if (this.state.peers[id]) return;
    try {
      const members = await api.members(id);
      const me = this.state.me?.user.id;
      const other = members.find((m) => m.user_id !== me)?.user_id;
      if (other) this.set({ peers: { ...this.state.peers, [id]: other } });
      if (other && !this.state.users[other]) await this.fillPeople(id);
    } catch {
      /* shown without a name */
    }
  }

  private async loadDirectory(me: Me) {
    try {
      const users = await api.orgUsers(me.organization.id);
      const map: Record<Uuid, User> = { ...this.state.users };
      for (const u of users) map[u.id] = u;
      map[me.user.id] = me.user;
      this.set({ users: map });
    } catch {
      /* names fall back to "Unknown user" */
    }
  }

  /** Activity from the user: keeps the idle lock away. */
  activity() {
    this.idle.activity();
  }

  private tick() {
    if (this.state.phase !== "ready") return;
    if (this.idle.expired()) return this.lock("idle");
    // Typing indicators expire.
    const now = Date.now();
    for (const [id, chat] of Object.entries(this.state.chats)) {
      const live = Object.entries(chat.typing).filter(([, until]) => until > now);
      if (live.length !== Object.keys(chat.typing).length) this.setChat(id, () => ({ typing: Object.fromEntries(live) }));
    }
  }

  private ping() {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    const active = this.idle.activeSince(this.lastPing);
    this.lastPing = Date.now();
    this.socket.send(JSON.stringify({ type: "ping", active }));
  }

  // ---- the socket ----
  private connect() {
    if (this.state.phase !== "ready") return;
    const generation = this.generation;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${proto}//${location.host}/ws`);
    this.socket = socket;
    this.set({ connection: "connecting" });
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "hello", positions: this.positions.snapshot() }));
    };
    socket.onmessage = (e) => {
      if (generation !== this.generation) return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    socket.onclose = (e) => {
      if (generation !== this.generation || this.socket !== socket) return;
      this.socket = null;
      if (e.code === 4023) return this.lock("server");
      if (e.code === 4001) {
        // The session ended, or the hello was refused because of the account's state.
        return void this.start();
      }
      this.set({ connection: "offline" });
      this.attempts++;
      this.reconnectTimer = setTimeout(() => this.connect(), backoff(this.attempts));
    };
  }

  /** Reconnect now (the browser came back online, or the user asked). */
  reconnectNow() {
    if (this.state.phase !== "ready" || this.socket) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.connect();
  }

  setOnline(online: boolean) {
    this.set({ online });
    if (online) this.reconnectNow();
    // The network is gone: do not wait for the socket to notice (sends fall back to HTTP and
    // fail at once, visibly, with retry).
    else if (this.socket) this.socket.close(4000, "offline");
  }

  private onFrame(frame: ServerFrame) {
    switch (frame.type) {
      case "welcome":
        return;
      case "synced":
        this.attempts = 0;
        this.set({ connection: "online" });
        this.resendPending();
        this.markReadIfVisible();
        return;
      case "event":
        return this.onEvent(frame.event);
      case "ack": {
        this.clearAck(frame.client_msg_id);
        this.setChat(frame.conversation_id, (chat) => ({
          pending: chat.pending.map((p) => (p.client_msg_id === frame.client_msg_id ? { ...p, seq: frame.seq } : p)),
        }));
        return;
      }
      case "error":
        if (frame.client_msg_id) this.failSend(frame.client_msg_id, "refused");
        return;
      case "receipt": {
        const { conversation_id: id, user_id, seq } = frame;
        if (this.state.chats[id]) this.setChat(id, (chat) => ({ readMarks: applyReceipt(chat.readMarks, user_id, seq) }));
        if (user_id === this.state.me?.user.id) {
          this.setConversation(id, (c) =>
            seq > c.last_read_seq ? { last_read_seq: seq, unread: seq >= c.last_seq ? 0 : c.unread } : {},
          );
        }
        return;
      }
      case "typing":
        if (frame.user_id === this.state.me?.user.id) return;
        this.setChat(frame.conversation_id, (chat) => ({
          typing: { ...chat.typing, [frame.user_id]: Date.now() + TYPING_SHOW_MS },
        }));
        return;
      case "inbox_changed":
        return inboxChanged(frame.study_id);
      case "removed": {
        const id = frame.conversation_id;
        this.positions.forget(id);
        const chats = { ...this.state.chats };
        delete chats[id];
        this.set({
          conversations: this.state.conversations.filter((c) => c.id !== id),
          chats,
          selected: this.state.selected === id ? null : this.state.selected,
        });
        return;
      }
    }
  }

  private onEvent(event: TimelineEvent) {
    const id = event.conversation_id;
    this.positions.observe(id, event.seq);
    const known = this.state.conversations.find((c) => c.id === id);
    if (!known) return void this.fetchConversation(id);
    const me = this.state.me?.user.id;
    const message = event.message ?? null;
    if (event.kind === "message.created" && message) {
      const viewing = this.isViewing(id);
      this.setConversation(id, (c) => ({
        last_seq: Math.max(c.last_seq, event.seq),
        last_message: message,
        updated_at: event.at,
        unread: message.sender_id !== me && !viewing && event.seq > c.last_read_seq ? c.unread + 1 : c.unread,
      }));
    } else {
      this.setConversation(id, (c) => ({
        last_seq: Math.max(c.last_seq, event.seq),
        last_message: message && c.last_message?.seq === message.seq ? message : c.last_message,
      }));
    }
    const chat = this.state.chats[id];
    if (message && event.kind === "message.created" && chat?.typing[message.sender_id]) {
      // Whoever was typing has sent.
      this.setChat(id, (ch) => {
        const typing = { ...ch.typing };
        delete typing[message.sender_id];
        return { typing };
      });
    }
    // Also into a chat whose first page is still loading (e.g. one just shared into): the page
    // is merged with what arrived meanwhile, so nothing that raced it goes missing.
    if (chat && message && !(chat.hasNewer && event.kind === "message.created")) {
      this.setChat(id, (ch) => {
        const messages = mergeMessages(ch.messages, [message]);
        return { messages, pending: settle(ch.pending, messages, me ?? "") };
      });
      if (message.sender_id === me) this.clearAck(message.client_msg_id);
    }
    // Edits and deletions name their target; apply them to the copy on screen.
    const target = Number(event.data?.target_seq);
    if (chat && (event.kind === "message.edited" || event.kind === "message.deleted") && target && message?.seq !== target) {
      this.setChat(id, (ch) => {
        const old = ch.messages.find((m) => m.seq === target);
        if (!old) return {};
        const changed: Message =
          event.kind === "message.deleted"
            ? { ...old, body: "", attachments: [], mentions: [], deleted_at: event.at }
            : { ...old, body: String(event.data.body ?? old.body), edited_at: event.at };
        return { messages: mergeMessages(ch.messages, [changed]) };
      });
    }
    if ((event.kind === "message.edited" || event.kind === "message.deleted") && target) {
      this.setConversation(id, (c) =>
        c.last_message?.seq === target
          ? {
              last_message:
                event.kind === "message.deleted"
                  ? { ...c.last_message, body: "", attachments: [], deleted_at: event.at }
                  : { ...c.last_message, body: String(event.data.body ?? c.last_message.body), edited_at: event.at },
            }
          : {},
      );
    }
    if (chat?.loaded && (event.kind === "member.added" || event.kind === "member.removed")) this.loadMembers(id);
    if (event.kind === "conversation.updated") this.fetchConversation(id);
    if (event.kind === "message.created") this.markReadIfVisible();
  }

  private async fetchConversation(id: Uuid) {
    if (this.fetchingConversations.has(id)) return;
    this.fetchingConversations.add(id);
    const generation = this.generation;
    try {
      const c = await api.conversation(id);
      if (generation !== this.generation) return;
      this.positions.observe(id, c.last_seq);
      const others = this.state.conversations.filter((x) => x.id !== id);
      this.set({ conversations: [...others, c].sort(byActivity) });
      if (c.kind === "direct") void this.loadPeer(c.id);
    } catch {
      /* not visible to us (removed meanwhile) */
    } finally {
      this.fetchingConversations.delete(id);
    }
  }

  // ---- conversations ----
  select(id: Uuid | null) {
    this.set({ selected: id });
    if (!id) return;
    const chat = this.state.chats[id];
    if (!chat?.loaded) void this.loadNewest(id);
    else this.markReadIfVisible();
  }

  private isViewing(id: Uuid): boolean {
    return (
      this.state.phase === "ready" &&
      this.state.selected === id &&
      (typeof document === "undefined" || document.visibilityState === "visible")
    );
  }

  private async loadNewest(id: Uuid) {
    const generation = this.generation;
    try {
      const [page] = await Promise.all([api.history(id, undefined, PAGE), this.loadMembers(id)]);
      if (generation !== this.generation) return;
      for (const m of page) this.positions.observe(id, m.seq);
      this.setChat(id, (chat) => {
        const messages = mergeMessages(chat.messages, page);
        return {
          messages,
          loaded: true,
          error: false,
          hasNewer: false,
          hasOlder: page.length === PAGE,
          pending: settle(chat.pending, messages, this.state.me?.user.id ?? ""),
        };
      });
      this.markReadIfVisible();
    } catch (e) {
      if (generation === this.generation && !(e instanceof ApiError && (e.status === 423 || e.status === 401)))
        this.setChat(id, () => ({ error: true }));
    }
  }

  private async loadMembers(id: Uuid) {
    const members = await api.members(id);
    this.setChat(id, (chat) => {
      let marks = readMarksOf(members);
      // Receipts that arrived meanwhile are not undone.
      for (const [user, seq] of Object.entries(chat.readMarks)) marks = applyReceipt(marks, user, seq);
      return {
        members: members.map((m) => m.user_id),
        readMarks: marks,
        roles: Object.fromEntries(members.map((m) => [m.user_id, m.role])),
      };
    });
    const unknown = members.map((m) => m.user_id).filter((u) => !this.state.users[u]);
    if (unknown.length > 0) void this.fillPeople(id).catch(() => undefined);
  }

  /** Names of a conversation's members, partner hospitals' staff included (the directory). */
  private async fillPeople(conversationId: Uuid) {
    const page = await searchDirectory("", 0, conversationId, 100);
    this.rememberPeople(page.items.map(asUser));
  }

  /** People met in the directory, so their names show wherever they appear. */
  rememberPeople(people: User[]) {
    const users = { ...this.state.users };
    // A hospital's name learnt from the directory is kept with what was known before.
    for (const u of people) users[u.id] = users[u.id] ? { ...users[u.id], org_name: users[u.id].org_name ?? u.org_name } : u;
    this.set({ users });
  }

  /** Infinite scroll back: the page before the oldest loaded message. */
  async loadOlder(id: Uuid) {
    const chat = this.state.chats[id];
    if (!chat?.loaded || !chat.hasOlder || chat.loadingOlder) return;
    const oldest = chat.messages[0]?.seq;
    if (!oldest || oldest <= 1) return this.setChat(id, () => ({ hasOlder: false }));
    this.setChat(id, () => ({ loadingOlder: true }));
    try {
      const page = await api.history(id, oldest, PAGE);
      this.setChat(id, (ch) => ({
        messages: mergeMessages(ch.messages, page),
        hasOlder: page.length === PAGE,
        loadingOlder: false,
      }));
    } catch {
      this.setChat(id, () => ({ loadingOlder: false }));
    }
  }

  /** Posts read marks for what the user is looking at. */
  markReadIfVisible() {
    const id = this.state.selected;
    if (!id || !this.isViewing(id)) return;
    const conv = this.state.conversations.find((c) => c.id === id);
    const chat = this.state.chats[id];
    if (!conv || !chat?.loaded) return;
    const newest = chat.messages[chat.messages.length - 1]?.seq ?? 0;
    // Reading a window in the middle (a search result) reads up to what is on screen only.
    const seq = chat.hasNewer ? newest : Math.max(newest, conv.last_seq);
    if (seq <= conv.last_read_seq && conv.unread === 0) return;
    if (this.readInflight.has(id)) return;
    this.readInflight.add(id);
    this.setConversation(id, () => ({ unread: 0, last_read_seq: Math.max(conv.last_read_seq, seq) }));
    api
      .markRead(id, seq)
      .catch(() => undefined)
      .finally(() => {
        this.readInflight.delete(id);
        const now = this.state.conversations.find((c) => c.id === id);
        if (now && now.last_seq > seq) this.markReadIfVisible();
      });
  }

  async createConversation(kind: "direct" | "group", members: Uuid[], title?: string): Promise<Uuid> {
    const c = await api.createConversation(kind, members, title);
    this.positions.observe(c.id, c.last_seq);
    const others = this.state.conversations.filter((x) => x.id !== c.id);
    this.set({ conversations: [...others, c].sort(byActivity) });
    if (c.kind === "direct") void this.loadPeer(c.id);
    return c.id;
  }

  // ---- a message in context (search results) ----
  /** Opens conversation `id` at message `seq`: the messages around it, scrolled to and marked. */
  async openAt(id: Uuid, seq: number) {
    this.set({ selected: id });
    const nonce = Date.now();
    const chat = this.state.chats[id];
    if (chat?.loaded && chat.messages.some((m) => m.seq === seq)) {
      this.setChat(id, () => ({ focus: { seq, nonce } }));
      return this.markReadIfVisible();
    }
    const generation = this.generation;
    this.setChat(id, () => ({ loaded: false, messages: [], error: false, focus: { seq, nonce } }));
    try {
      const half = PAGE / 2;
      const [before, after] = await Promise.all([
        api.history(id, seq + 1, half),
        chatApi.historyAfter(id, seq, half),
        this.loadMembers(id),
      ]);
      if (generation !== this.generation) return;
      const page = [...before, ...after];
      for (const m of page) this.positions.observe(id, m.seq);
      this.setChat(id, (ch) => ({
        messages: mergeMessages([], page),
        loaded: true,
        hasOlder: before.length === half,
        hasNewer: after.length === half,
        pending: settle(ch.pending, page, this.state.me?.user.id ?? ""),
      }));
      this.markReadIfVisible();
    } catch (e) {
      if (generation === this.generation && !(e instanceof ApiError && (e.status === 423 || e.status === 401)))
        this.setChat(id, () => ({ error: true }));
    }
  }

  /** Scrolling down a window in the middle: the next page after it. */
  async loadNewer(id: Uuid) {
    const chat = this.state.chats[id];
    if (!chat?.loaded || !chat.hasNewer || chat.loadingNewer) return;
    const newest = chat.messages[chat.messages.length - 1]?.seq ?? 0;
    this.setChat(id, () => ({ loadingNewer: true }));
    try {
      const page = await chatApi.historyAfter(id, newest, PAGE);
      this.setChat(id, (ch) => ({
        messages: mergeMessages(ch.messages, page),
        hasNewer: page.length === PAGE,
        loadingNewer: false,
      }));
      this.markReadIfVisible();
    } catch {
      this.setChat(id, () => ({ loadingNewer: false }));
    }
  }

  /** "Jump to latest" from a window in the middle: the newest page again. */
  async jumpToLatest(id: Uuid) {
    const chat = this.state.chats[id];
    if (!chat?.hasNewer) return;
    this.setChat(id, () => ({ messages: [], loaded: false, hasNewer: false, focus: null }));
    await this.loadNewest(id);
  }

  // ---- managing a group ----
  async renameConversation(id: Uuid, title: string) {
    const c = await chatApi.rename(id, title);
    this.setConversation(id, () => ({ title: c.title }));
  }

  async setRetention(id: Uuid, days: number) {
    const c = await chatApi.setRetention(id, days);
    this.setConversation(id, () => ({ retention_days: c.retention_days }));
  }

  async addMember(id: Uuid, user: User) {
    this.rememberPeople([user]);
    await chatApi.addMember(id, user.id);
    await this.loadMembers(id);
    this.setConversation(id, (c) => ({ member_count: c.member_count + 1 }));
  }

  async removeMember(id: Uuid, userId: Uuid) {
    await chatApi.removeMember(id, userId);
    await this.loadMembers(id);
    this.setConversation(id, (c) => ({ member_count: Math.max(0, c.member_count - 1) }));
  }

  /** Leaves a group: it disappears from the list at once. */
  async leave(id: Uuid) {
    const me = this.state.me?.user.id;
    if (!me) return;
    await chatApi.removeMember(id, me);
    this.onFrame({ type: "removed", conversation_id: id } as ServerFrame);
  }

  /** My own notification level here (push does not exist yet: badges and sounds in the app). */
  async setNotify(id: Uuid, level: NotifyLevel) {
    const before = this.state.conversations.find((c) => c.id === id)?.notify;
    this.setConversation(id, () => ({ notify: level }));
    try {
      await chatApi.setNotify(id, level);
    } catch (e) {
      this.setConversation(id, () => ({ notify: before }));
      throw e;
    }
  }

  // ---- sending ----
  send(
    id: Uuid,
    body: string,
    priority: "normal" | "urgent",
    replyTo: number | null,
    extra: { mentions?: Uuid[]; attachments?: Attachment[] } = {},
  ) {
    const pending: Pending = {
      client_msg_id: newClientMsgId(),
      conversation_id: id,
      body,
      reply_to: replyTo,
      priority,
      created_at: new Date().toISOString(),
      status: "sending",
      ...(extra.mentions?.length ? { mentions: extra.mentions } : {}),
      ...(extra.attachments?.length ? { attachments: extra.attachments } : {}),
    };
    this.setChat(id, (chat) => ({ pending: [...chat.pending, pending] }));
    this.transmit(pending);
  }

  /** Sends again with the same client_msg_id: the server never stores it twice. */
  retry(id: Uuid, clientMsgId: string) {
    const chat = this.state.chats[id];
    const p = chat?.pending.find((x) => x.client_msg_id === clientMsgId);
    if (!p) return;
    const again: Pending = { ...p, status: "sending" };
    this.setChat(id, (ch) => ({ pending: ch.pending.map((x) => (x.client_msg_id === clientMsgId ? again : x)) }));
    this.transmit(again);
  }

  private transmit(p: Pending) {
    const frame: OutgoingMessage = {
      client_msg_id: p.client_msg_id,
      body: p.body,
      reply_to: p.reply_to,
      priority: p.priority,
      ...(p.mentions ? { mentions: p.mentions } : {}),
      ...(p.attachments ? { attachments: p.attachments } : {}),
    };
    const socket = this.socket;
    if (socket && socket.readyState === WebSocket.OPEN && this.state.connection === "online") {
      socket.send(JSON.stringify({ type: "send", conversation_id: p.conversation_id, ...frame }));
      this.clearAck(p.client_msg_id);
      this.ackTimers.set(
        p.client_msg_id,
        setTimeout(() => this.failSend(p.client_msg_id, "network"), ACK_TIMEOUT_MS),
      );
      return;
    }
    // No live socket: post over HTTP (idempotent by client_msg_id as well).
    api.post(p.conversation_id, frame).then(
      (ack) => {
        this.setChat(p.conversation_id, (chat) => {
          const loaded = chat.loaded ? mergeMessages(chat.messages, [ack.message]) : chat.messages;
          return {
            messages: loaded,
            pending: chat.loaded
              ? settle(chat.pending, loaded, this.state.me?.user.id ?? "")
              : chat.pending.filter((x) => x.client_msg_id !== p.client_msg_id),
          };
        });
      },
      (e) => this.failSend(p.client_msg_id, failureOf(e instanceof ApiError ? e.status : undefined)),
    );
  }

  private clearAck(clientMsgId: string) {
    const timer = this.ackTimers.get(clientMsgId);
    if (timer) clearTimeout(timer);
    this.ackTimers.delete(clientMsgId);
  }

  private failSend(clientMsgId: string, why: Failure) {
    this.clearAck(clientMsgId);
    for (const [id, chat] of Object.entries(this.state.chats)) {
      if (chat.pending.some((p) => p.client_msg_id === clientMsgId && p.seq === undefined)) {
        this.setChat(id, (ch) => ({
          pending: ch.pending.map((p) => (p.client_msg_id === clientMsgId ? markFailed(p, why) : p)),
        }));
      }
    }
  }

  /**
   * After a reconnect, what was on its way, and what the network lost, goes again (same ids:
   * the server stores each once); a send the server refused waits for the user's retry.
   */
  private resendPending() {
    for (const [id, chat] of Object.entries(this.state.chats)) {
      const { pending, resend } = resendAll(chat.pending);
      if (resend.length === 0) continue;
      this.setChat(id, () => ({ pending }));
      for (const p of resend) this.transmit(p);
    }
  }

  /** Edits one's own message; everyone sees it through the timeline event as well. */
  async editMessage(id: Uuid, seq: number, body: string): Promise<void> {
    const message = await api.editMessage(id, seq, body);
    this.mergeStored(id, message);
  }

  /** Deletes one's own message (it stays as "deleted" for everyone). */
  async deleteMessage(id: Uuid, seq: number): Promise<void> {
    await api.deleteMessage(id, seq);
    const chat = this.state.chats[id];
    const old = chat?.messages.find((m) => m.seq === seq);
    if (old) this.mergeStored(id, { ...old, body: "", attachments: [], deleted_at: new Date().toISOString() });
  }

  private mergeStored(id: Uuid, message: Message) {
    if (this.state.chats[id]?.loaded) this.setChat(id, (ch) => ({ messages: mergeMessages(ch.messages, [message]) }));
  }

  typing(id: Uuid) {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_SEND_MS) return;
    if (this.socket?.readyState !== WebSocket.OPEN || this.state.connection !== "online") return;
    this.lastTypingSent = now;
    this.socket.send(JSON.stringify({ type: "typing", conversation_id: id }));
  }

  receipts(id: Uuid, seq: number) {
    return api.receipts(id, seq);
  }

  users(): User[] {
    return Object.values(this.state.users);
  }
}

export const session = new Session();

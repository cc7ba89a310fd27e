// The app's state: sign-in phases, the conversation list, loaded timelines and pending sends,
// and the idle lock, wired together. The socket and sending live in connection/*, what pages
// and events do to timelines in state/timelines, the step after signing in in state/phase.
// Nothing here is persisted: a lock or sign-out drops every piece of data from memory.

import { deferPasscode, forgetPasscodeDeferrals, passcodeDeferred } from "./state/passcodeLater";
import { inboxChanged } from "./state/inboxLive";
import { asPerson, searchDirectory } from "./cooperation/api";
import { api, ApiError, onAuthProblem } from "./api";
import { chatApi } from "./chatApi";
import type { ServerFrame } from "./connection/frames";
import { Sender } from "./connection/sender";
import { ServerSocket } from "./connection/socket";
import { IdleTimer } from "./state/idle";
import { phaseAfterAuth, type Phase } from "./state/phase";
import { Positions } from "./state/positions";
import { applyReceipt, mergeMessages, readMarksOf } from "./state/timeline";
import {
  PAGE,
  afterNewerPage,
  afterNewestPage,
  afterOlderPage,
  afterWindow,
  byActivity,
  chatAfterEvent,
  deletedCopy,
  emptyChat,
  liveTyping,
  summaryAfterEvent,
  summaryAfterOwnReceipt,
  typingFrom,
  withConversation,
  type Chat,
} from "./state/timelines";
import type { Attachment, Conversation, Me, Message, NotifyLevel, Person, Priority, TimelineEvent, Uuid } from "./types";

export type { Chat } from "./state/timelines";

export type { Phase } from "./state/phase";
export type Connection = "connecting" | "online" | "offline";

export interface State {
  phase: Phase;
  me: Me | null;
  conversations: Conversation[];
  listLoaded: boolean;
  chats: Record<Uuid, Chat>;
  users: Record<Uuid, Person>;
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

const TYPING_SEND_MS = 3_000;

export class Session {
  state: State = initial();
  private listeners = new Set<() => void>();
  private positions = new Positions();
  private idle = new IdleTimer(10);
  private ticker: ReturnType<typeof setInterval> | null = null;
  private socket = new ServerSocket({
    positions: () => this.positions.snapshot(),
    activeSince: (since) => this.idle.activeSince(since),
    frame: (frame) => this.onFrame(frame),
    status: (connection) => this.set({ connection }),
    locked: () => this.lock("server"),
    signedOut: () => void this.start(),
  });
  private sender = new Sender(
    {
      chats: () => this.state.chats,
      setChat: (id, update) => this.setChat(id, update),
      online: () => this.state.connection === "online",
      me: () => this.myId,
    },
    this.socket,
  );
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
  /** Conversation `c` as the server has it now, into the list. */
  private putConversation(c: Conversation) {
    this.positions.observe(c.id, c.last_seq);
    this.set({ conversations: withConversation(this.state.conversations, c) });
    if (c.kind === "direct") void this.loadPeer(c.id);
  }
  private get myId(): Uuid {
    return this.state.me?.user.id ?? "";
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
    const phase = phaseAfterAuth(me, lockFirst, passcodeDeferred(me.user.id));
    if (phase === "ready") return void this.enterReady(me);
    this.set({ me, phase, ...(phase === "locked" ? { lockReason: "start" as const } : {}) });
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
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.sender.clear();
    this.socket.stop();
    this.positions.clear();
    this.readInflight.clear();
    this.fetchingConversations.clear();
  }

  private async enterReady(me: Me) {
    this.teardown();
    const generation = this.generation;
    this.set({ ...initial(), me, phase: "ready", connection: "connecting" });
    this.idle.activity();
    this.ticker = setInterval(() => this.tick(), 1000);
    try {
      await this.loadConversations();
    } catch {
      /* shown as an empty list with the offline banner; the socket retries */
    }
    if (generation !== this.generation) return;
    this.socket.start();
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
      const map: Record<Uuid, Person> = { ...this.state.users };
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
      const typing = liveTyping(chat.typing, now);
      if (typing) this.setChat(id, () => ({ typing }));
    }
  }

  /** Reconnect now (the browser came back online, or the user asked). */
  reconnectNow() {
    if (this.state.phase === "ready") this.socket.reconnectNow();
  }

  setOnline(online: boolean) {
    this.set({ online });
    if (online) this.reconnectNow();
    // The network is gone: do not wait for the socket to notice (sends fall back to HTTP and
    // fail at once, visibly, with retry).
    else this.socket.offline();
  }

  private onFrame(frame: ServerFrame) {
    switch (frame.type) {
      case "welcome":
        return;
      case "synced":
        this.socket.synced();
        this.set({ connection: "online" });
        this.sender.resendPending();
        this.markReadIfVisible();
        return;
      case "event":
        return this.onEvent(frame.event);
      case "ack": {
        return this.sender.acked(frame.conversation_id, frame.client_msg_id, frame.seq);
      }
      case "error":
        if (frame.client_msg_id) this.sender.refused(frame.client_msg_id);
        return;
      case "receipt": {
        const { conversation_id: id, user_id, seq } = frame;
        if (this.state.chats[id]) this.setChat(id, (chat) => ({ readMarks: applyReceipt(chat.readMarks, user_id, seq) }));
        if (user_id === this.state.me?.user.id) {
          this.setConversation(id, (c) => summaryAfterOwnReceipt(c, seq));
        }
        return;
      }
      case "typing":
        if (frame.user_id === this.state.me?.user.id) return;
        this.setChat(frame.conversation_id, (chat) => typingFrom(chat, frame.user_id, Date.now()));
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
    if (!this.state.conversations.some((c) => c.id === id)) return void this.fetchConversation(id);
    const me = this.myId;
    const viewing = this.isViewing(id);
    this.setConversation(id, (c) => summaryAfterEvent(c, event, me, viewing));
    const chat = this.state.chats[id];
    // Also into a chat whose first page is still loading (e.g. one just shared into): the page
    // is merged with what arrived meanwhile, so nothing that raced it goes missing.
    if (chat) this.setChat(id, (ch) => chatAfterEvent(ch, event, me));
    if (event.message?.sender_id === me) this.sender.stored(event.message.client_msg_id);
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
      this.putConversation(c);
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
      this.setChat(id, (chat) => afterNewestPage(chat, page, this.myId));
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
    this.rememberPeople(page.items.map(asPerson));
  }

  /** People met in the directory, so their names show wherever they appear. */
  rememberPeople(people: Person[]) {
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
      this.setChat(id, (ch) => afterOlderPage(ch, page));
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
    this.putConversation(c);
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
      for (const m of [...before, ...after]) this.positions.observe(id, m.seq);
      this.setChat(id, (ch) => afterWindow(ch, before, after, half, this.myId));
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
      this.setChat(id, (ch) => afterNewerPage(ch, page));
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

  async addMember(id: Uuid, user: Person) {
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

  // ---- sending (connection/sender) ----
  send(id: Uuid, body: string, priority: Priority, replyTo: number | null, extra: { mentions?: Uuid[]; attachments?: Attachment[] } = {}) {
    this.sender.send(id, body, priority, replyTo, extra);
  }

  /** Sends again with the same client_msg_id: the server never stores it twice. */
  retry(id: Uuid, clientMsgId: string) {
    this.sender.retry(id, clientMsgId);
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
    if (old) this.mergeStored(id, deletedCopy(old, new Date().toISOString()));
  }

  private mergeStored(id: Uuid, message: Message) {
    if (this.state.chats[id]?.loaded) this.setChat(id, (ch) => ({ messages: mergeMessages(ch.messages, [message]) }));
  }

  typing(id: Uuid) {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_SEND_MS) return;
    if (this.state.connection !== "online") return;
    if (this.socket.send({ type: "typing", conversation_id: id })) this.lastTypingSent = now;
  }

  receipts(id: Uuid, seq: number) {
    return api.receipts(id, seq);
  }

  users(): Person[] {
    return Object.values(this.state.users);
  }
}

export const session = new Session();

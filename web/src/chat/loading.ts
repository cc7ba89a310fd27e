// Loading a conversation's timeline from the server (state/timelines says what each page does
// to it): the newest page on opening, older pages scrolling back, a window around a found
// message and the pages after it, and the member list.

import { api, ApiError } from "../api";
import { chatApi } from "../chatApi";
import type { Positions } from "../state/positions";
import type { Store } from "../state/store";
import {
  PAGE,
  afterMembers,
  afterNewerPage,
  afterNewestPage,
  afterOlderPage,
  afterWindow,
  newerPageAfter,
  olderPageBefore,
  type Chat,
} from "../state/timelines";
import { mayHoldNotices, mergeNotices, noticesOf, pageRange, type Notice } from "../state/notices";
import type { Message, Uuid } from "../types";
import type { ReadMarker } from "./markRead";
import type { People } from "./people";

/** Most events read in one request for the notices of a page. */
const EVENTS_PAGE = 500;

/** A page that failed shows as an error, unless the session locked or ended (another screen shows). */
const shownAsError = (e: unknown) => !(e instanceof ApiError && (e.status === 423 || e.status === 401));

export class TimelineLoader {
  constructor(
    private store: Store,
    private positions: Positions,
    private people: People,
    private readMarker: ReadMarker,
  ) {}

  /** Opens conversation `id` (null: none): its newest page the first time, else marks it read. */
  select(id: Uuid | null) {
    this.store.set({ selected: id });
    if (!id) return;
    if (!this.store.state.chats[id]?.loaded) void this.loadNewest(id);
    else this.readMarker.markIfVisible();
  }

  /** Opens conversation `id` at message `seq`: the messages around it, scrolled to and marked. */
  async openAt(id: Uuid, seq: number) {
    this.store.set({ selected: id });
    const focus = { seq, nonce: Date.now() };
    const chat = this.store.state.chats[id];
    if (chat?.loaded && chat.messages.some((m) => m.seq === seq)) {
      this.store.setChat(id, () => ({ focus }));
      return this.readMarker.markIfVisible();
    }
    this.store.setChat(id, () => ({ loaded: false, messages: [], error: false, focus }));
    const half = PAGE / 2;
    await this.loadPages(id, async () => {
      const [before, after] = await Promise.all([api.history(id, seq + 1, half), chatApi.historyAfter(id, seq, half), this.loadMembers(id)]);
      void this.loadNotices(id, [...before, ...after], pageRange([...before, ...after], before.length < half, after.length < half));
      return { messages: [...before, ...after], apply: (ch) => afterWindow(ch, before, after, half, this.store.myId) };
    });
  }

  /** Infinite scroll back: the page before the oldest loaded message. */
  async loadOlder(id: Uuid) {
    const oldest = olderPageBefore(this.store.state.chats[id]);
    if (oldest === null) return;
    if (oldest === "start") return this.store.setChat(id, () => ({ hasOlder: false }));
    this.store.setChat(id, () => ({ loadingOlder: true }));
    try {
      const page = await api.history(id, oldest, PAGE);
      this.store.setChat(id, (ch) => afterOlderPage(ch, page));
      void this.loadNotices(id, page, { ...pageRange(page, page.length < PAGE, false), upTo: oldest - 1 });
    } catch {
      this.store.setChat(id, () => ({ loadingOlder: false }));
    }
  }

  /** Scrolling down a window in the middle: the next page after it. */
  async loadNewer(id: Uuid) {
    const newest = newerPageAfter(this.store.state.chats[id]);
    if (newest === null) return;
    this.store.setChat(id, () => ({ loadingNewer: true }));
    try {
      const page = await chatApi.historyAfter(id, newest, PAGE);
      this.store.setChat(id, (ch) => afterNewerPage(ch, page));
      void this.loadNotices(id, page, pageRange(page, false, page.length < PAGE, newest));
      this.readMarker.markIfVisible();
    } catch {
      this.store.setChat(id, () => ({ loadingNewer: false }));
    }
  }

  /** "Jump to latest" from a window in the middle: the newest page again. */
  async jumpToLatest(id: Uuid) {
    if (!this.store.state.chats[id]?.hasNewer) return;
    this.store.setChat(id, () => ({ messages: [], loaded: false, hasNewer: false, focus: null }));
    await this.loadNewest(id);
  }

  /** The member list (roles, read marks), and the names of members not known yet. */
  async loadMembers(id: Uuid) {
    const generation = this.store.generation;
    const members = await api.members(id);
    // Dropped on lock or sign-out meanwhile: the answer must not bring the chat back.
    if (generation !== this.store.generation) return;
    this.store.setChat(id, (chat) => afterMembers(chat, members));
    this.people.fillIn(id, members);
  }

  private async loadNewest(id: Uuid) {
    await this.loadPages(id, async () => {
      const [page] = await Promise.all([api.history(id, undefined, PAGE), this.loadMembers(id)]);
      void this.loadNotices(id, page, pageRange(page, page.length < PAGE, true));
      return { messages: page, apply: (ch) => afterNewestPage(ch, page, this.store.myId) };
    });
  }

  /**
   * The system notices of a loaded `page`'s stretch of seqs (state/notices.pageRange): its
   * events read in pages, when its messages leave a seq free.
   */
  private async loadNotices(id: Uuid, page: Message[], range: { after: number; upTo: number | null }) {
    const lastSeq = this.store.state.conversations.find((c) => c.id === id)?.last_seq ?? 0;
    if (!mayHoldNotices(page, range, lastSeq)) return;
    const generation = this.store.generation;
    const found: Notice[] = [];
    let after = range.after;
    try {
      for (;;) {
        const limit = range.upTo === null ? EVENTS_PAGE : Math.min(EVENTS_PAGE, range.upTo - after);
        if (limit <= 0) break;
        const events = await chatApi.events(id, after, limit);
        found.push(...noticesOf(events));
        if (events.length < limit) break;
        after = events[events.length - 1].seq;
      }
    } catch {
      // The messages show without these notices until the page is loaded again.
    }
    if (generation !== this.store.generation || found.length === 0) return;
    this.store.setChat(id, (ch) => {
      const notices = mergeNotices(ch.notices, found);
      return notices === ch.notices ? {} : { notices };
    });
  }

  /**
   * Loads what replaces chat `id`'s timeline (with its members), unless the session's data was
   * dropped meanwhile: the positions learn its seqs, and what shows is marked read.
   */
  private async loadPages(id: Uuid, load: () => Promise<{ messages: Message[]; apply: (chat: Chat) => Partial<Chat> }>) {
    const generation = this.store.generation;
    try {
      const { messages, apply } = await load();
      if (generation !== this.store.generation) return;
      for (const m of messages) this.positions.observe(id, m.seq);
      this.store.setChat(id, apply);
      this.readMarker.markIfVisible();
    } catch (e) {
      if (generation === this.store.generation && shownAsError(e)) this.store.setChat(id, () => ({ error: true }));
    }
  }
}

// Managing a conversation from its details: its title, retention, members, leaving it, and my
// own notification level; the list and the member list follow at once.

import { chatApi } from "../chatApi";
import type { Store } from "../state/store";
import type { NotifyLevel, Person, Uuid } from "../types";
import type { ConversationList } from "./conversations";
import type { TimelineLoader } from "./loading";
import type { People } from "./people";

export class GroupActions {
  constructor(
    private store: Store,
    private timelines: Pick<TimelineLoader, "loadMembers">,
    private people: Pick<People, "remember">,
    private conversations: Pick<ConversationList, "drop">,
  ) {}

  async rename(id: Uuid, title: string) {
    const c = await chatApi.rename(id, title);
    this.store.setConversation(id, () => ({ title: c.title }));
  }

  async setRetention(id: Uuid, days: number) {
    const c = await chatApi.setRetention(id, days);
    this.store.setConversation(id, () => ({ retention_days: c.retention_days }));
  }

  async addMember(id: Uuid, user: Person) {
    this.people.remember([user]);
    await chatApi.addMember(id, user.id);
    await this.timelines.loadMembers(id);
    this.store.setConversation(id, (c) => ({ member_count: c.member_count + 1 }));
  }

  async removeMember(id: Uuid, userId: Uuid) {
    await chatApi.removeMember(id, userId);
    await this.timelines.loadMembers(id);
    this.store.setConversation(id, (c) => ({ member_count: Math.max(0, c.member_count - 1) }));
  }

  /** Leaves a group: it disappears from the list at once. */
  async leave(id: Uuid) {
    const me = this.store.state.me?.user.id;
    if (!me) return;
    await chatApi.removeMember(id, me);
    this.conversations.drop(id);
  }

  /** My own notification level here (push does not exist yet: badges and sounds in the app). */
  async setNotify(id: Uuid, level: NotifyLevel) {
    const before = this.store.state.conversations.find((c) => c.id === id)?.notify;
    this.store.setConversation(id, () => ({ notify: level }));
    try {
      await chatApi.setNotify(id, level);
    } catch (e) {
      this.store.setConversation(id, () => ({ notify: before }));
      throw e;
    }
  }
}

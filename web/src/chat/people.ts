// Learning people's names from the server: the own organization's directory after sign-in, a
// conversation's members from the directory, and who each direct conversation is with.

import { api } from "../api";
import { asPerson, searchDirectory } from "../cooperation/api";
import { anyUnknown, peerOf, withDirectory, withMet } from "../state/knownPeople";
import type { Store } from "../state/store";
import type { Me, Member, Person, Uuid } from "../types";

export class People {
  constructor(private store: Store) {}

  /** The organization's directory, so names show everywhere. */
  async loadDirectory(me: Me) {
    try {
      const directory = await api.orgUsers(me.organization.id);
      this.store.set({ users: withDirectory(this.store.state.users, directory, me.user) });
    } catch {
      /* names fall back to "Unknown user" */
    }
  }

  /** Who the other person of a direct conversation is (its title is their name). */
  async loadPeer(id: Uuid) {
    if (this.store.state.peers[id]) return;
    try {
      const other = peerOf(await api.members(id), this.store.state.me?.user.id);
      if (other) this.store.set({ peers: { ...this.store.state.peers, [id]: other } });
      if (other && !this.store.state.users[other]) await this.loadMembersOf(id);
    } catch {
      /* shown without a name */
    }
  }

  /** The names of `members` of conversation `id` that are not known yet (failures show no name). */
  fillIn(id: Uuid, members: Member[]) {
    if (anyUnknown(members, this.store.state.users)) void this.loadMembersOf(id).catch(() => undefined);
  }

  /** People met in the directory, so their names show wherever they appear. */
  remember(people: Person[]) {
    this.store.set({ users: withMet(this.store.state.users, people) });
  }

  /** Names of a conversation's members, partner hospitals' staff included (the directory). */
  private async loadMembersOf(conversationId: Uuid) {
    const page = await searchDirectory("", 0, conversationId, 100);
    this.remember(page.items.map(asPerson));
  }
}

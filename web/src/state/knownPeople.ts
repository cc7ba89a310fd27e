// Who this client knows by name: the own organization's directory, people met in the
// directory (partner hospitals' staff too), and the other person of each direct conversation.
// Pure, so the rules are tested.

import type { Member, Person, Uuid } from "../types";

/** `users` with the organization's `directory` and `me` in it (newer copies replace older ones). */
export function withDirectory(users: Record<Uuid, Person>, directory: Person[], me: Person): Record<Uuid, Person> {
  const known = { ...users };
  for (const u of directory) known[u.id] = u;
  known[me.id] = me;
  return known;
}

/** `users` with `people` met in the directory: a hospital's name learnt there is kept with what was known. */
export function withMet(users: Record<Uuid, Person>, people: Person[]): Record<Uuid, Person> {
  const known = { ...users };
  for (const u of people) known[u.id] = known[u.id] ? { ...known[u.id], org_name: known[u.id].org_name ?? u.org_name } : u;
  return known;
}

/** The other person of a direct conversation, from its members. */
export function peerOf(members: Member[], me: Uuid | undefined): Uuid | undefined {
  return members.find((m) => m.user_id !== me)?.user_id;
}

/** Whether any of `members` has no known name yet. */
export function anyUnknown(members: Member[], users: Record<Uuid, Person>): boolean {
  return members.some((m) => !users[m.user_id]);
}

// Which hospital to name beside a person: theirs, when it is not mine.

/** Their organization's name when they belong to another one than `myOrg` (and it is known). */
export function otherOrgName(person: { org_id: string; org_name?: string } | undefined, myOrg: string): string | null {
  if (!person || person.org_id === myOrg) return null;
  return person.org_name?.trim() || null;
}

// Finding people by any part of their name, kana reading or romaji, the way Japanese staff
// type it: full/half width, hiragana/katakana, upper/lower case and spaces do not matter.

import type { Person } from "../types";

/** What a person is found by (an administrator's list also has logins). */
type Findable = Pick<Person, "display_name" | "kana" | "romaji"> & { login?: string };

export function normalize(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60))
    .replace(/[\s\u3000・·.-]/g, "");
}

export function matchesPerson(user: Findable, query: string): boolean {
  const q = normalize(query);
  if (!q) return true;
  return [user.display_name, user.kana, user.romaji, user.login].some((field) =>
    normalize(field ?? "").includes(q),
  );
}

export function filterPeople<T extends Findable>(
  users: T[],
  query: string,
): T[] {
  return users.filter((u) => matchesPerson(u, query));
}

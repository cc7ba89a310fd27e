//! @mentions: finding the "@query" being typed, completing it, the users a text mentions, and
//! splitting a message body into plain and mention parts for display.

import type { Person, Uuid } from "../types";

/** The "@…" word that ends at the caret, if the user is typing one. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = before.match(/(^|\s)@([^\s@]{0,30})$/u);
  if (!m) return null;
  return { start: caret - m[2].length - 1, query: m[2] };
}

/** Replaces the "@query" at `start` with "@Name " and returns the new text and caret. */
export function completeMention(text: string, start: number, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}

/** The users (of `candidates`) whose "@Name" appears in the text. */
export function mentionedIds(text: string, candidates: Pick<Person, "id" | "display_name">[]): Uuid[] {
  return candidates.filter((u) => u.display_name && text.includes(`@${u.display_name}`)).map((u) => u.id);
}

export type Part = { text: string; mention?: Uuid };

/** Splits a body at each "@Name" of a mentioned user, longest names first. */
export function splitMentions(body: string, mentioned: Pick<Person, "id" | "display_name">[]): Part[] {
  const names = mentioned.filter((u) => u.display_name).sort((a, b) => b.display_name.length - a.display_name.length);
  if (names.length === 0) return [{ text: body }];
  const parts: Part[] = [];
  let plain = "";
  let i = 0;
  outer: while (i < body.length) {
    if (body[i] === "@") {
      for (const u of names) {
        const token = `@${u.display_name}`;
        if (body.startsWith(token, i)) {
          if (plain) parts.push({ text: plain });
          plain = "";
          parts.push({ text: token, mention: u.id });
          i += token.length;
          continue outer;
        }
      }
    }
    plain += body[i];
    i++;
  }
  if (plain) parts.push({ text: plain });
  return parts;
}

// Whether a directory row says how it matched: only when something was typed.

/** The match kind to show for a row, or null (an empty query lists everyone: nothing matched). */
export function rankTag<R extends string>(query: string, rank: R): R | null {
  return query.trim() ? rank : null;
}

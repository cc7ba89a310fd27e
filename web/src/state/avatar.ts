// One colour per person (or group) everywhere in the app: a hash of the id into a palette.

/** Colours readable with white initials in both light and dark schemes. */
export const AVATAR_PALETTE = ["#0f766e", "#1d4ed8", "#7c3aed", "#b45309", "#be185d", "#0369a1", "#4d7c0f", "#9f1239"] as const;

/** The avatar colour of `id` (a user's id; a group's conversation id). */
export function avatarColor(id: string): string {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return AVATAR_PALETTE[h % AVATAR_PALETTE.length];
}

/** Whose colour a conversation shows: the other person's in a 1:1, the group's own otherwise. */
export function conversationAvatarId(c: { id: string; kind: "direct" | "group" }, peer: string | undefined): string {
  return c.kind === "direct" && peer ? peer : c.id;
}

import { useSyncExternalStore } from "react";
import { session, type State } from "./session";
import type { User, Uuid } from "./types";

export function useSession(): State {
  return useSyncExternalStore(session.subscribe, session.getState);
}

export function displayName(users: Record<Uuid, User>, id: Uuid | null | undefined, fallback: string): string {
  return (id && users[id]?.display_name) || fallback;
}

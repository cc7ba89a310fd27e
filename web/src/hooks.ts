import { useEffect, useState, useSyncExternalStore, type RefObject } from "react";
import { session } from "./session";
import type { State } from "./state/store";
import type { Person, Uuid } from "./types";
import type { Card } from "./state/cards";

export function useSession(): State {
  return useSyncExternalStore(session.subscribe, session.getState);
}

export function displayName(users: Record<Uuid, Person>, id: Uuid | null | undefined, fallback: string): string {
  return (id && users[id]?.display_name) || fallback;
}

/** A card (study or medium) by id, loading first. */
export function useCard<T>(id: Uuid, load: (id: Uuid) => Promise<Card<T>>): Card<T> {
  const [card, setCard] = useState<Card<T>>({ state: "loading" });
  useEffect(() => {
    let live = true;
    setCard({ state: "loading" });
    load(id).then((c) => live && setCard(c));
    return () => {
      live = false;
    };
  }, [id, load]);
  return card;
}

/** A full-screen view: focused when it opens, closed by Escape. */
export function useFullScreen(root: RefObject<HTMLElement | null>, onClose: () => void) {
  useEffect(() => {
    root.current?.focus();
    const esc = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", esc);
    return () => window.removeEventListener("keydown", esc);
  }, [root, onClose]);
}

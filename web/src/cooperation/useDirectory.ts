// The directory search as a hook: the server ranks (exact > prefix > partial) and pages;
// typing is debounced and a stale answer never replaces a newer one.

import { useCallback, useEffect, useRef, useState } from "react";
import type { Uuid } from "../types";
import { searchDirectory, type DirectoryEntry } from "./api";
import "./cooperation.css";

export interface DirectoryState {
  items: DirectoryEntry[];
  total: number;
  hasMore: boolean;
  loading: boolean;
  error: boolean;
  more: () => void;
}

export function useDirectory(query: string, conversationId?: Uuid, delayMs = 200): DirectoryState {
  const [items, setItems] = useState<DirectoryEntry[]>([]);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState(false);
  const generation = useRef(0);

  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    const timer = setTimeout(() => {
      searchDirectory(query, 0, conversationId).then(
        (page) => {
          if (mine !== generation.current) return;
          setItems(page.items);
          setTotal(page.total);
          setNext(page.next_offset ?? null);
          setError(false);
          setLoading(false);
        },
        () => {
          if (mine !== generation.current) return;
          setError(true);
          setLoading(false);
        },
      );
    }, delayMs);
    return () => clearTimeout(timer);
  }, [query, conversationId, delayMs]);

  const more = useCallback(() => {
    if (next === null) return;
    const mine = generation.current;
    setLoading(true);
    searchDirectory(query, next, conversationId).then(
      (page) => {
        if (mine !== generation.current) return;
        setItems((old) => [...old, ...page.items]);
        setNext(page.next_offset ?? null);
        setLoading(false);
      },
      () => setLoading(false),
    );
  }, [next, query, conversationId]);

  return { items, total, hasMore: next !== null, loading, error, more };
}

// Message search: across all my conversations or inside one; kanji as typed, kana in either
// script, romaji for kana (the server folds them). A result opens its message in context.

import { useEffect, useRef, useState } from "react";
import { chatApi } from "../../chatApi";
import { useSession } from "../../hooks";
import { useI18n } from "../../i18n/i18n";
import { highlight } from "../../state/searchText";
import type { Message, Uuid } from "../../types";
import { Avatar, Icon, conversationTitle } from "../common";
import { Sheet } from "../Sheet";
import { conversationAvatarId } from "../../state/avatar";

import "./chat.css";

const DEBOUNCE_MS = 250;

export function SearchScreen(props: { conversation: Uuid | null; onClose: () => void; onOpen: (conversation: Uuid, seq: number) => void }) {
  const state = useSession();
  const { t, shortTime } = useI18n();
  const [query, setQuery] = useState("");
  const [scope, setScope] = useState<Uuid | null>(props.conversation);
  const [results, setResults] = useState<Message[] | null>(null);
  const [failed, setFailed] = useState(false);
  const generation = useRef(0);

  useEffect(() => {
    const mine = ++generation.current;
    const q = query.trim();
    if (!q) {
      setResults(null);
      return;
    }
    const timer = setTimeout(() => {
      chatApi.search(q, scope ?? undefined).then(
        (found) => {
          if (mine !== generation.current) return;
          setResults(found);
          setFailed(false);
        },
        () => mine === generation.current && setFailed(true),
      );
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, scope]);

  const scoped = scope ? state.conversations.find((c) => c.id === scope) : undefined;
  const unknown = t("chat.unknownUser");

  return (
    <Sheet titleId="search-title" title={t("chatx.searchTitle")} onClose={props.onClose} className="search-sheet" closeIcon="back">
      <div className="search">
        <Icon name="search" />
        <input
          type="search"
          autoFocus
          enterKeyHint="search"
          aria-label={t("chatx.searchPlaceholder")}
          placeholder={t("chatx.searchPlaceholder")}
          value={query}
          maxLength={200}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      <div className="search-scope" role="radiogroup" aria-label={t("chatx.searchScope")}>
        <button type="button" role="radio" aria-checked={scope === null} className={`chip ${scope === null ? "on" : ""}`} onClick={() => setScope(null)}>
          {t("chatx.searchAll")}
        </button>
        {props.conversation && (
          <button
            type="button"
            role="radio"
            aria-checked={scope === props.conversation}
            className={`chip ${scope === props.conversation ? "on" : ""}`}
            onClick={() => setScope(props.conversation)}
          >
            {t("chatx.searchIn", { name: scoped ? conversationTitle(scoped, state, unknown) : "" })}
          </button>
        )}
      </div>
      <p className="search-hint">{t("chatx.searchHint")}</p>
      <ul className="search-results" aria-label={t("chatx.searchResults")} aria-live="polite">
        {failed && <li className="form-error">{t("common.error")}</li>}
        {results?.length === 0 && <li className="list-empty">{t("chatx.searchNone")}</li>}
        {results?.map((m) => {
          const conv = state.conversations.find((c) => c.id === m.conversation_id);
          const title = conv ? conversationTitle(conv, state, unknown) : unknown;
          const sender = state.users[m.sender_id]?.display_name ?? unknown;
          return (
            <li key={m.id}>
              <button type="button" className="search-result" onClick={() => props.onOpen(m.conversation_id, m.seq)}>
                <Avatar name={title} id={conv ? conversationAvatarId(conv, state.peers[conv.id]) : m.conversation_id} size={36} group={conv?.kind === "group"} />
                <span className="result-main">
                  <span className="result-top">
                    <span className="result-title">{title}</span>
                    <time dateTime={m.created_at}>{shortTime(m.created_at)}</time>
                  </span>
                  <span className="result-body">
                    <span className="result-sender">{sender}: </span>
                    {highlight(m.body, query).map((part, i) => (part.hit ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </Sheet>
  );
}

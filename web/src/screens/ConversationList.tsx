import { useMemo, useState } from "react";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import { matchesPerson, normalize } from "../state/people";
import { Avatar, Icon, conversationTitle, peerOf } from "./common";
import { conversationAvatarId } from "../state/avatar";
import { badgeQuiet } from "../state/notify";

export function ConversationList({ onOpen }: { onOpen: (id: string) => void }) {
  const state = useSession();
  const { t, shortTime } = useI18n();
  const [filter, setFilter] = useState("");
  const me = state.me!.user.id;
  const unknown = t("chat.unknownUser");

  const rows = useMemo(() => {
    const q = normalize(filter);
    return state.conversations.filter((c) => {
      if (!q) return true;
      const title = conversationTitle(c, state, unknown);
      const peer = peerOf(c, state);
      return normalize(title).includes(q) || (peer ? matchesPerson(peer, filter) : false);
    });
  }, [state, filter, unknown]);

  return (
    <div className="conversation-list">
      <div className="search">
        <Icon name="search" />
        <input
          type="search"
          aria-label={t("list.filter")}
          placeholder={t("list.filter")}
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
      </div>
      {state.listLoaded && state.conversations.length === 0 && (
        <div className="list-empty">
          <p>{t("list.empty")}</p>
          <p className="hint">{t("list.emptyHint")}</p>
        </div>
      )}
      {state.listLoaded && state.conversations.length > 0 && rows.length === 0 && (
        <div className="list-empty">
          <p>{t("list.noMatch")}</p>
        </div>
      )}
      <ul className="rows" aria-label={t("list.title")}>
        {rows.map((c) => {
          const title = conversationTitle(c, state, unknown);
          const last = c.last_message;
          const urgent = !!last && last.priority === "urgent" && c.unread > 0;
          let preview = t("list.noMessages");
          if (last) {
            const text = last.deleted_at
              ? t("chat.deleted")
              : last.body || (last.attachments[0] ? t(last.attachments[0].kind === "study" ? "attach.study" : "attach.photo") : "");
            preview = last.sender_id === me ? t("list.you", { text }) : text;
          }
          const selected = state.selected === c.id;
          return (
            <li key={c.id}>
              <button
                type="button"
                className={`row ${selected ? "selected" : ""} ${c.unread > 0 ? "unread" : ""}`}
                aria-current={selected ? "true" : undefined}
                onClick={() => onOpen(c.id)}
              >
                <Avatar name={title} id={conversationAvatarId(c, state.peers[c.id])} group={c.kind === "group"} />
                <span className="row-main">
                  <span className="row-top">
                    <span className="row-title">{title}</span>
                    {last && <time dateTime={last.created_at}>{shortTime(last.created_at)}</time>}
                  </span>
                  <span className="row-bottom">
                    {urgent && (
                      <span className="urgent-tag" aria-label={t("list.urgent")}>
                        {t("list.urgent")}
                      </span>
                    )}
                    <span className="row-preview">{preview}</span>
                    {c.unread > 0 && (
                      <span className={`badge ${badgeQuiet(c, me) ? "quiet" : ""}`} aria-label={t("list.unread", { n: c.unread })}>
                        {c.unread > 99 ? "99+" : c.unread}
                      </span>
                    )}
                  </span>
                  <span className="visually-hidden">
                    {c.kind === "group" ? t("list.groupOf", { n: c.member_count }) : t("list.direct")}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

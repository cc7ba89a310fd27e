import { Fragment, useEffect, useRef, useState } from "react";
import { session } from "../session";
import type { Chat } from "../state/timelines";
import { useSession } from "../hooks";
import { dayDiff, useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { unconfirmed } from "../state/timeline";
import { lineText, owesAck, summarize } from "../state/delivery";
import { conversationAvatarId } from "../state/avatar";
import { otherOrgName } from "../state/orgLabel";
import { firstUnreadSeq, newSince } from "../state/unread";
import { noticeLine, placeNotices, type Notice } from "../state/notices";
import type { Message, Person, Uuid } from "../types";
import { Avatar, Icon, conversationTitle, peerOf } from "./common";
import { MessageItem, PendingItem } from "./chat/Messages";
import { Composer } from "./chat/Composer";
import { DeleteDialog, ReceiptsDialog } from "./chat/Dialogs";
import { GroupInfo } from "./chat/GroupInfo";
import { useAnchoredScroll } from "./chat/useAnchoredScroll";
import "./chat/chat.css";
import "./push.css";
import { CallButtons } from "../call/CallButtons";

const GROUP_MS = 5 * 60_000;
/** How long a message opened from search stays highlighted. */
const HIGHLIGHT_MS = 4_000;

export function ChatView({ id, onBack, onSearch }: { id: Uuid; onBack: () => void; onSearch: (conversation: Uuid) => void }) {
  const state = useSession();
  const { t, day, time } = useI18n();
  const conv = state.conversations.find((c) => c.id === id);
  const chat: Chat | undefined = state.chats[id];
  const me = state.me!.user.id;
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const { atBottom, hold, onScroll: trackScroll } = useAnchoredScroll(scroller, content);
  // Where the reader had read up to when the chat opened (the read mark moves on at once).
  const openedAt = useRef<{ readSeq: number; unread: number } | null>(null);
  if (openedAt.current === null && conv) openedAt.current = { readSeq: conv.last_read_seq, unread: conv.unread };
  const [unreadFrom, setUnreadFrom] = useState<number | null>(null);
  const placed = useRef(false);
  const seenSeq = useRef(0);
  const [highlight, setHighlight] = useState<number | null>(null);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [receiptsFor, setReceiptsFor] = useState<number | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const [info, setInfo] = useState(false);

  const messages = chat?.messages ?? [];
  // Urgent messages: who acknowledged (and whether I still owe it) comes from their receipts,
  // fetched once each when shown; later steps arrive as live frames.
  const fetchedDelivery = useRef(new Set<number>());
  useEffect(() => {
    for (const m of messages) {
      if (m.priority !== "urgent" || m.deleted_at || fetchedDelivery.current.has(m.seq)) continue;
      fetchedDelivery.current.add(m.seq);
      void session.messages.loadDelivery(id, m.seq).catch(() => fetchedDelivery.current.delete(m.seq));
    }
  }, [messages, id]);
  const pending = unconfirmed(chat?.pending ?? [], messages, me);
  const newest = messages[messages.length - 1]?.seq ?? 0;
  if (atBottom && !chat?.hasNewer) seenSeq.current = Math.max(seenSeq.current, newest);

  // The first time messages are there: open at the first unread message, or the newest.
  useEffect(() => {
    if (placed.current || !chat?.loaded || chat.focus) return;
    placed.current = true;
    const opened = openedAt.current;
    const first = opened && opened.unread > 0 ? firstUnreadSeq(messages, opened.readSeq, me) : null;
    if (first !== null && first !== messages[0]?.seq) {
      setUnreadFrom(first);
      hold({ kind: "seq", seq: first, offset: 56 });
    } else hold({ kind: "bottom" });
  }, [chat?.loaded, chat?.focus, messages, me, hold]);

  // A message opened from search: scrolled to the middle third and highlighted for a while.
  const focus = chat?.focus;
  useEffect(() => {
    if (!focus || !chat?.loaded || !messages.some((m) => m.seq === focus.seq)) return;
    placed.current = true;
    hold({ kind: "seq", seq: focus.seq, offset: Math.round((scroller.current?.clientHeight ?? 600) / 3) });
    setHighlight(focus.seq);
    const timer = setTimeout(() => setHighlight(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
    // Each search result opens once (the nonce), not on every new message.
  }, [focus?.nonce, chat?.loaded]);

  if (!conv) return null;
  const title = conversationTitle(conv, state, t("chat.unknownUser"));
  const peer = peerOf(conv, state);
  const peerOrg = otherOrgName(peer, state.me!.organization.id);
  const subtitle =
    conv.kind === "group"
      ? t("chat.members", { n: conv.member_count })
      : peer
        ? [t(`profession.${peer.profession}` as MessageKey), peerOrg].filter(Boolean).join(" · ")
        : "";
  const typingUsers = Object.keys(chat?.typing ?? {}).filter((u) => u !== me);
  const name = (uid: Uuid) => state.users[uid]?.display_name ?? t("chat.unknownUser");
  // The server's system notices, in their places by seq among the loaded messages.
  const noticeSpots = placeNotices(messages, chat?.notices ?? [], chat?.hasOlder ?? true, chat?.hasNewer ?? false);
  const noticeItem = (n: Notice) => {
    const line = noticeLine(n, n.senderId ? name(n.senderId) : t("chat.unknownUser"), time);
    return (
      <p key={`notice-${n.seq}`} className="system-notice" role="note">
        {line.key ? t(line.key, line.vars) : line.text}
      </p>
    );
  };
  // In a window around a found message the newer ones are not loaded: no count then.
  const fresh = chat?.hasNewer ? 0 : newSince(messages, seenSeq.current, me);
  const showJump = !atBottom || !!chat?.hasNewer;

  const onScroll = () => {
    trackScroll();
    const el = scroller.current!;
    if (el.scrollTop < 200) void session.timelines.loadOlder(id);
    if (chat?.hasNewer && el.scrollHeight - el.scrollTop - el.clientHeight < 200) void session.timelines.loadNewer(id);
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 48) session.readMarker.markIfVisible();
  };

  const jumpToLatest = async () => {
    if (chat?.hasNewer) await session.timelines.jumpToLatest(id);
    hold({ kind: "bottom" });
    session.readMarker.markIfVisible();
  };

  return (
    <section className="chat" aria-labelledby="chat-title">
      <header className="chat-header">
        <button type="button" className="icon-button back" aria-label={t("common.back")} onClick={onBack}>
          <Icon name="back" />
        </button>
        {/* Tapping the name opens the details too; the info button is the accessible way there. */}
        <div className="chat-header-main" onClick={() => setInfo(true)}>
          <Avatar name={title} id={conversationAvatarId(conv, state.peers[conv.id])} size={40} group={conv.kind === "group"} />
          <span className="chat-titles">
            <h2 id="chat-title">
              <span className="chat-title-text">{title}</span>
              {conv.notify && conv.notify !== "all" && (
                <span className="notify-tag" title={t(`chatx.notify.${conv.notify}` as MessageKey)}>
                  {t(`chatx.notifyShort.${conv.notify}` as MessageKey)}
                </span>
              )}
            </h2>
            <span className="chat-subtitle">{subtitle}</span>
          </span>
        </div>
        <CallButtons conversation={id} />
        <button type="button" className="icon-button" aria-label={t("chatx.searchHere")} title={t("chatx.searchHere")} onClick={() => onSearch(id)}>
          <Icon name="search" />
        </button>
        <button type="button" className="icon-button" aria-label={t("chatx.info")} title={t("chatx.info")} aria-haspopup="dialog" onClick={() => setInfo(true)}>
          <Icon name="info" />
        </button>
      </header>
      <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-live="polite" aria-relevant="additions" aria-label={title}>
        <div className="messages-inner" ref={content}>
          {chat?.loaded && !chat.hasOlder && messages.length > 0 && <p className="timeline-note">{t("chat.beginning")}</p>}
          {chat?.loadingOlder && <p className="timeline-note">{t("chat.loadOlder")}</p>}
          {!chat?.loaded && !chat?.error && <p className="timeline-note">{t("common.loading")}</p>}
          {chat?.error && <p className="timeline-note error">{t("common.error")}</p>}
          {chat?.loaded && messages.length === 0 && pending.length === 0 && noticeSpots.after.length === 0 && (
            <p className="timeline-empty">{t("chat.empty")}</p>
          )}
          {messages.map((m, i) => {
            const prev = messages[i - 1];
            const newDay = !prev || dayDiff(new Date(prev.created_at), new Date(m.created_at)) !== 0;
            const continued =
              !!prev &&
              !newDay &&
              m.seq !== unreadFrom &&
              prev.sender_id === m.sender_id &&
              new Date(m.created_at).getTime() - new Date(prev.created_at).getTime() < GROUP_MS;
            const quoted = m.reply_to ? messages.find((x) => x.seq === m.reply_to) : undefined;
            return (
              <Fragment key={m.seq}>
                {noticeSpots.before.get(m.seq)?.map(noticeItem)}
                {newDay && (
                  <div className="day" role="separator">
                    <span>{day(m.created_at)}</span>
                  </div>
                )}
                {m.seq === unreadFrom && (
                  <div className="unread-divider" role="separator">
                    <span>{t("chatx.unreadFrom")}</span>
                  </div>
                )}
                <MessageItem
                  message={m}
                  mine={m.sender_id === me}
                  group={conv.kind === "group"}
                  continued={continued}
                  highlighted={highlight === m.seq}
                  senderName={name(m.sender_id)}
                  quoted={quoted}
                  quotedName={quoted ? name(quoted.sender_id) : ""}
                  receipt={
                    m.sender_id === me && chat
                      ? (() => {
                          const s = summarize(chat.delivery, chat.readMarks, chat.members, me, m.seq, m.priority === "urgent");
                          const line = lineText(s);
                          return { text: t(line.key, { n: line.n, of: line.of }), done: line.n > 0, all: line.n === s.of, of: s.of, escalated: s.escalated > 0 };
                        })()
                      : null
                  }
                  owesAck={!!chat && owesAck(chat.delivery, me, m)}
                  onAck={() => session.messages.acknowledge(id, m.seq)}
                  onReply={() => setReplyTo(m)}
                  onReceipts={() => setReceiptsFor(m.seq)}
                  onEdit={() => setEditing(m)}
                  onDelete={() => setDeleting(m)}
                  users={state.users}
                  me={me}
                />
              </Fragment>
            );
          })}
          {noticeSpots.after.map(noticeItem)}
          {chat?.loadingNewer && <p className="timeline-note">{t("common.loading")}</p>}
          {!chat?.hasNewer &&
            pending.map((p) => <PendingItem key={p.client_msg_id} pending={p} onRetry={() => session.sender.retry(id, p.client_msg_id)} />)}
        </div>
      </div>
      {showJump && (
        <button type="button" className="jump-latest" onClick={() => void jumpToLatest()}>
          <Icon name="down" />
          {fresh > 0 ? t("chatx.jumpNew", { n: fresh }) : t("chatx.jump")}
        </button>
      )}
      <div className="typing" aria-live="polite">
        {typingUsers.length === 1
          ? t("chat.typing", { name: name(typingUsers[0]) })
          : typingUsers.length > 1
            ? t("chat.typingMany")
            : ""}
      </div>
      <Composer
        id={id}
        members={(chat?.members ?? []).filter((u) => u !== me).map((u) => state.users[u]).filter((u): u is Person => !!u)}
        editing={editing}
        onCancelEdit={() => setEditing(null)}
        replyTo={replyTo}
        replyName={replyTo ? name(replyTo.sender_id) : ""}
        onCancelReply={() => setReplyTo(null)}
        onSent={() => {
          setReplyTo(null);
          void jumpToLatest();
        }}
      />
      {receiptsFor !== null && (
        <ReceiptsDialog
          id={id}
          seq={receiptsFor}
          urgent={messages.find((m) => m.seq === receiptsFor)?.priority === "urgent"}
          onClose={() => setReceiptsFor(null)}
          name={name}
        />
      )}
      {deleting && <DeleteDialog id={id} message={deleting} onClose={() => setDeleting(null)} />}
      {info && <GroupInfo id={id} onClose={() => setInfo(false)} onLeft={onBack} />}
    </section>
  );
}

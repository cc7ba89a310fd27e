import { Fragment, useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { session, type Chat } from "../session";
import { useSession } from "../hooks";
import { dayDiff, useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { readBy, unconfirmed, type Pending } from "../state/timeline";
import type { Attachment, Message, Receipts, Uuid } from "../types";
import { Avatar, Icon, conversationTitle, peerOf } from "./common";

const GROUP_MS = 5 * 60_000;

export function ChatView({ id, onBack }: { id: Uuid; onBack: () => void }) {
  const state = useSession();
  const { t, day } = useI18n();
  const conv = state.conversations.find((c) => c.id === id);
  const chat: Chat | undefined = state.chats[id];
  const me = state.me!.user.id;
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const firstSeq = useRef<number | null>(null);
  const lastHeight = useRef(0);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [receiptsFor, setReceiptsFor] = useState<number | null>(null);

  const messages = chat?.messages ?? [];
  const pending = unconfirmed(chat?.pending ?? [], messages, me);

  // Keep the view anchored: at the bottom for new messages, in place when older ones load.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = messages[0]?.seq ?? null;
    if (firstSeq.current !== null && first !== null && first < firstSeq.current) {
      el.scrollTop += el.scrollHeight - lastHeight.current;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
    firstSeq.current = first;
    lastHeight.current = el.scrollHeight;
  });

  useEffect(() => {
    stick.current = true;
  }, [id]);

  if (!conv) return null;
  const title = conversationTitle(conv, state, t("chat.unknownUser"));
  const peer = peerOf(conv, state);
  const subtitle =
    conv.kind === "group"
      ? t("chat.members", { n: conv.member_count })
      : peer
        ? t(`profession.${peer.profession}` as MessageKey)
        : "";
  const typingUsers = Object.keys(chat?.typing ?? {}).filter((u) => u !== me);
  const name = (uid: Uuid) => state.users[uid]?.display_name ?? t("chat.unknownUser");

  const onScroll = () => {
    const el = scroller.current!;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    lastHeight.current = el.scrollHeight;
    if (el.scrollTop < 200) void session.loadOlder(id);
    if (stick.current) session.markReadIfVisible();
  };

  return (
    <section className="chat" aria-labelledby="chat-title">
      <header className="chat-header">
        <button type="button" className="icon-button back" aria-label={t("common.back")} onClick={onBack}>
          <Icon name="back" />
        </button>
        <Avatar name={title} id={conv.id} size={40} group={conv.kind === "group"} />
        <div className="chat-titles">
          <h2 id="chat-title">{title}</h2>
          <span>{subtitle}</span>
        </div>
      </header>
      <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-live="polite" aria-relevant="additions" aria-label={title}>
        {chat?.loaded && !chat.hasOlder && messages.length > 0 && <p className="timeline-note">{t("chat.beginning")}</p>}
        {chat?.loadingOlder && <p className="timeline-note">{t("chat.loadOlder")}</p>}
        {!chat?.loaded && !chat?.error && <p className="timeline-note">{t("common.loading")}</p>}
        {chat?.error && <p className="timeline-note error">{t("common.error")}</p>}
        {chat?.loaded && messages.length === 0 && pending.length === 0 && <p className="timeline-empty">{t("chat.empty")}</p>}
        {messages.map((m, i) => {
          const prev = messages[i - 1];
          const newDay = !prev || dayDiff(new Date(prev.created_at), new Date(m.created_at)) !== 0;
          const continued =
            !!prev &&
            !newDay &&
            prev.sender_id === m.sender_id &&
            new Date(m.created_at).getTime() - new Date(prev.created_at).getTime() < GROUP_MS;
          const quoted = m.reply_to ? messages.find((x) => x.seq === m.reply_to) : undefined;
          return (
            <Fragment key={m.seq}>
              {newDay && (
                <div className="day" role="separator">
                  <span>{day(m.created_at)}</span>
                </div>
              )}
              <MessageItem
                message={m}
                mine={m.sender_id === me}
                group={conv.kind === "group"}
                continued={continued}
                senderName={name(m.sender_id)}
                quoted={quoted}
                quotedName={quoted ? name(quoted.sender_id) : ""}
                receipt={m.sender_id === me && chat ? readBy(chat.readMarks, chat.members, me, m.seq) : null}
                onReply={() => setReplyTo(m)}
                onReceipts={() => setReceiptsFor(m.seq)}
              />
            </Fragment>
          );
        })}
        {pending.map((p) => (
          <PendingItem key={p.client_msg_id} pending={p} onRetry={() => session.retry(id, p.client_msg_id)} />
        ))}
      </div>
      <div className="typing" aria-live="polite">
        {typingUsers.length === 1
          ? t("chat.typing", { name: name(typingUsers[0]) })
          : typingUsers.length > 1
            ? t("chat.typingMany")
            : ""}
      </div>
      <Composer
        id={id}
        replyTo={replyTo}
        replyName={replyTo ? name(replyTo.sender_id) : ""}
        onCancelReply={() => setReplyTo(null)}
        onSent={() => {
          setReplyTo(null);
          stick.current = true;
        }}
      />
      {receiptsFor !== null && (
        <ReceiptsDialog id={id} seq={receiptsFor} onClose={() => setReceiptsFor(null)} name={name} />
      )}
    </section>
  );
}

function AttachmentChip({ a }: { a: Attachment }) {
  const { t } = useI18n();
  const kind = a.kind === "study" ? "study" : a.kind === "media" ? "photo" : "file";
  const label = t(kind === "study" ? "attach.study" : kind === "photo" ? "attach.photo" : "attach.file");
  return (
    <span className="attachment" title={t("attach.unavailable")}>
      <Icon name={kind} />
      <span>
        {label}
        {a.name ? `: ${a.name}` : ""}
      </span>
    </span>
  );
}

function MessageItem(props: {
  message: Message;
  mine: boolean;
  group: boolean;
  continued: boolean;
  senderName: string;
  quoted?: Message;
  quotedName: string;
  receipt: { n: number; of: number } | null;
  onReply: () => void;
  onReceipts: () => void;
}) {
  const { t, time } = useI18n();
  const { message: m, mine, receipt } = props;
  const urgent = m.priority === "urgent";
  const deleted = !!m.deleted_at;
  return (
    <article
      className={`msg ${mine ? "mine" : "theirs"} ${props.continued ? "continued" : ""} ${urgent ? "urgent" : ""}`}
      aria-label={urgent ? t("chat.urgentLabel") : undefined}
      data-seq={m.seq}
    >
      {!mine && props.group && (
        <div className="msg-avatar">{!props.continued && <Avatar name={props.senderName} id={m.sender_id} size={36} />}</div>
      )}
      <div className="msg-col">
        {!mine && props.group && !props.continued && <div className="msg-sender">{props.senderName}</div>}
        <div className="msg-row">
          <div className="bubble">
            {urgent && (
              <span className="urgent-tag">
                <Icon name="alert" /> {t("chat.urgent")}
              </span>
            )}
            {m.reply_to && (
              <div className="quote">
                <strong>{props.quotedName}</strong>
                <span>{props.quoted ? (props.quoted.deleted_at ? t("chat.deleted") : props.quoted.body) : "…"}</span>
              </div>
            )}
            {deleted ? <p className="deleted">{t("chat.deleted")}</p> : m.body && <p className="body">{m.body}</p>}
            {!deleted && m.attachments.length > 0 && (
              <div className="attachments">
                {m.attachments.map((a) => (
                  <AttachmentChip key={a.id} a={a} />
                ))}
              </div>
            )}
          </div>
          {!deleted && (
            <button type="button" className="icon-button reply-button" aria-label={t("chat.reply")} title={t("chat.reply")} onClick={props.onReply}>
              <Icon name="reply" />
            </button>
          )}
        </div>
        <div className="msg-meta">
          {m.edited_at && !deleted && <span>{t("chat.edited")}</span>}
          <time dateTime={m.created_at}>{time(m.created_at)}</time>
          {receipt && receipt.of > 0 && (
            <button type="button" className={`receipt ${receipt.n > 0 ? "read" : ""}`} onClick={props.onReceipts} aria-haspopup="dialog">
              {receipt.n === 0 ? t("chat.unread") : t("chat.readBy", { n: receipt.n, of: receipt.of })}
            </button>
          )}
        </div>
      </div>
    </article>
  );
}

function PendingItem({ pending: p, onRetry }: { pending: Pending; onRetry: () => void }) {
  const { t } = useI18n();
  const failed = p.status === "failed";
  return (
    <article className={`msg mine pending ${failed ? "failed" : ""} ${p.priority === "urgent" ? "urgent" : ""}`}>
      <div className="msg-col">
        <div className="msg-row">
          <div className="bubble">
            {p.priority === "urgent" && (
              <span className="urgent-tag">
                <Icon name="alert" /> {t("chat.urgent")}
              </span>
            )}
            <p className="body">{p.body}</p>
          </div>
        </div>
        <div className="msg-meta" role={failed ? "alert" : undefined}>
          {failed ? (
            <>
              <span className="failed-text">{t("chat.failed")}</span>
              <button type="button" className="retry" onClick={onRetry}>
                {t("common.retry")}
              </button>
            </>
          ) : (
            <span>{t("chat.sending")}</span>
          )}
        </div>
      </div>
    </article>
  );
}

function Composer(props: { id: Uuid; replyTo: Message | null; replyName: string; onCancelReply: () => void; onSent: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [urgent, setUrgent] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (props.replyTo) input.current?.focus();
  }, [props.replyTo]);

  const send = (e?: FormEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if (!body) return;
    session.send(props.id, body, urgent ? "urgent" : "normal", props.replyTo?.seq ?? null);
    setText("");
    setUrgent(false);
    props.onSent();
    input.current?.focus();
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  };

  return (
    <form className={`composer ${urgent ? "is-urgent" : ""}`} onSubmit={send}>
      {props.replyTo && (
        <div className="reply-bar">
          <Icon name="reply" />
          <div>
            <strong>{t("chat.replyingTo", { name: props.replyName })}</strong>
            <span>{props.replyTo.body}</span>
          </div>
          <button type="button" className="icon-button" aria-label={t("chat.cancelReply")} onClick={props.onCancelReply}>
            <Icon name="close" />
          </button>
        </div>
      )}
      <div className="composer-row">
        <button
          type="button"
          className={`urgent-toggle ${urgent ? "on" : ""}`}
          aria-pressed={urgent}
          aria-label={urgent ? t("chat.urgentOn") : t("chat.urgentOff")}
          title={t("chat.urgent")}
          onClick={() => setUrgent(!urgent)}
        >
          <Icon name="alert" />
          <span className="urgent-label">{t("chat.urgent")}</span>
        </button>
        <textarea
          ref={input}
          rows={1}
          aria-label={t("chat.placeholder")}
          placeholder={t("chat.placeholder")}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            if (e.target.value) session.typing(props.id);
          }}
          onKeyDown={onKey}
        />
        <button type="submit" className="send" aria-label={t("chat.send")} title={t("chat.send")} disabled={!text.trim()}>
          <Icon name="send" />
        </button>
      </div>
    </form>
  );
}

function ReceiptsDialog({ id, seq, onClose, name }: { id: Uuid; seq: number; onClose: () => void; name: (u: Uuid) => string }) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const [data, setData] = useState<Receipts | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    session.receipts(id, seq).then(setData, () => setFailed(true));
  }, [id, seq]);

  return (
    <dialog ref={dialog} className="popup" aria-labelledby="receipts-title" onClose={onClose} onCancel={onClose}>
      <header className="sheet-header">
        <h2 id="receipts-title">{t("chat.readers")}</h2>
        <button type="button" className="icon-button" aria-label={t("common.close")} onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      {data && <p className="receipts-summary">{t("chat.readBy", { n: data.read_by, of: data.of })}</p>}
      {!data && !failed && <p className="timeline-note">{t("common.loading")}</p>}
      {failed && <p className="form-error">{t("common.error")}</p>}
      <ul className="readers">
        {data?.readers.map((r) => (
          <li key={r.user_id}>
            <Avatar name={name(r.user_id)} id={r.user_id} size={36} />
            <span className="reader-name">{name(r.user_id)}</span>
            <span className={`reader-state ${r.read ? "read" : ""}`}>{r.read ? t("chat.readYes") : t("chat.readNo")}</span>
          </li>
        ))}
      </ul>
    </dialog>
  );
}

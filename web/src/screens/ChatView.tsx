import { Fragment, useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { session, type Chat } from "../session";
import { useModal, useSession } from "../hooks";
import { dayDiff, useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { readBy, unconfirmed, type Pending } from "../state/timeline";
import { matchesPerson } from "../state/people";
import type { Message, Receipts, User, Uuid } from "../types";
import { Avatar, Icon, conversationTitle, peerOf } from "./common";
import { AttachmentView, UploadTray, useUploads } from "./Attachments";
import { completeMention, mentionedIds, mentionQuery, splitMentions } from "../state/mentions";

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
  const [editing, setEditing] = useState<Message | null>(null);
  const [deleting, setDeleting] = useState<Message | null>(null);

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
                onEdit={() => setEditing(m)}
                onDelete={() => setDeleting(m)}
                users={state.users}
                me={me}
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
        members={(chat?.members ?? []).filter((u) => u !== me).map((u) => state.users[u]).filter((u): u is User => !!u)}
        editing={editing}
        onCancelEdit={() => setEditing(null)}
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
      {deleting && <DeleteDialog id={id} message={deleting} onClose={() => setDeleting(null)} />}
    </section>
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
  onEdit: () => void;
  onDelete: () => void;
  users: Record<Uuid, User>;
  me: Uuid;
}) {
  const { t, time } = useI18n();
  const { message: m, mine, receipt } = props;
  const urgent = m.priority === "urgent";
  const deleted = !!m.deleted_at;
  const [menu, setMenu] = useState(false);
  const mentioned = useMemo(() => m.mentions.map((u) => props.users[u]).filter((u): u is User => !!u), [m.mentions, props.users]);
  const mentionsMe = m.mentions.includes(props.me);
  return (
    <article
      className={`msg ${mine ? "mine" : "theirs"} ${props.continued ? "continued" : ""} ${urgent ? "urgent" : ""} ${mentionsMe ? "mentions-me" : ""}`}
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
            {deleted ? (
              <p className="deleted">{t("chat.deleted")}</p>
            ) : (
              m.body && (
                <p className="body">
                  {splitMentions(m.body, mentioned).map((part, i) =>
                    part.mention ? (
                      <mark key={i} className={`mention ${part.mention === props.me ? "me" : ""}`}>
                        {part.text}
                      </mark>
                    ) : (
                      <Fragment key={i}>{part.text}</Fragment>
                    ),
                  )}
                </p>
              )
            )}
            {!deleted && m.attachments.length > 0 && (
              <div className="attachments">
                {m.attachments.map((a) => (
                  <AttachmentView key={a.id} a={a} conversation={m.conversation_id} />
                ))}
              </div>
            )}
          </div>
          {!deleted && (
            <button type="button" className="icon-button reply-button" aria-label={t("chat.reply")} title={t("chat.reply")} onClick={props.onReply}>
              <Icon name="reply" />
            </button>
          )}
          {!deleted && mine && (
            <div className="msg-menu-anchor">
              <button
                type="button"
                className="icon-button reply-button"
                aria-label={t("chat.more")}
                aria-haspopup="menu"
                aria-expanded={menu}
                onClick={() => setMenu(!menu)}
                onBlur={(e) => !e.currentTarget.parentElement?.contains(e.relatedTarget as Node) && setMenu(false)}
              >
                <Icon name="more" />
              </button>
              {menu && (
                <div className="menu msg-menu" role="menu">
                  {m.body && (
                    <button role="menuitem" type="button" onClick={() => (setMenu(false), props.onEdit())}>
                      <Icon name="edit" /> {t("chat.edit")}
                    </button>
                  )}
                  <button role="menuitem" type="button" className="danger" onClick={() => (setMenu(false), props.onDelete())}>
                    <Icon name="trash" /> {t("chat.delete")}
                  </button>
                </div>
              )}
            </div>
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
            {p.body && <p className="body">{p.body}</p>}
            {p.attachments && p.attachments.length > 0 && (
              <div className="attachments">
                {p.attachments.map((a) => (
                  <span key={a.id} className="attachment">
                    <Icon name={a.kind === "study" ? "study" : "photo"} /> {t(a.kind === "study" ? "attach.study" : "attach.photo")}
                  </span>
                ))}
              </div>
            )}
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

function Composer(props: {
  id: Uuid;
  members: User[];
  editing: Message | null;
  onCancelEdit: () => void;
  replyTo: Message | null;
  replyName: string;
  onCancelReply: () => void;
  onSent: () => void;
}) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [urgent, setUrgent] = useState(false);
  const [caret, setCaret] = useState(0);
  const [pick, setPick] = useState(0);
  const [editError, setEditError] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const camera = useRef<HTMLInputElement>(null);
  const files = useRef<HTMLInputElement>(null);
  const { uploads, add, remove, retry, clear } = useUploads();
  const { editing } = props;

  useEffect(() => {
    if (props.replyTo) input.current?.focus();
  }, [props.replyTo]);

  useEffect(() => {
    if (!editing) return;
    setText(editing.body);
    setEditError(false);
    input.current?.focus();
  }, [editing]);

  const query = mentionQuery(text, caret);
  const suggestions = query
    ? props.members.filter((u) => matchesPerson(u, query.query)).slice(0, 6)
    : [];

  const choose = (u: User) => {
    if (!query) return;
    const next = completeMention(text, query.start, caret, u.display_name);
    setText(next.text);
    setCaret(next.caret);
    setPick(0);
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(next.caret, next.caret);
    });
  };

  const uploading = uploads.some((u) => u.status !== "done");
  const ready = uploads.filter((u) => u.status === "done" && u.media).map((u) => ({ kind: "media", id: u.media!.id, name: u.media!.name }));

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if (editing) {
      if (!body) return;
      try {
        await session.editMessage(props.id, editing.seq, body);
        setText("");
        props.onCancelEdit();
      } catch {
        setEditError(true);
      }
      return;
    }
    if ((!body && ready.length === 0) || uploading) return;
    session.send(props.id, body, urgent ? "urgent" : "normal", props.replyTo?.seq ?? null, {
      mentions: mentionedIds(body, props.members),
      attachments: ready,
    });
    setText("");
    setUrgent(false);
    clear();
    props.onSent();
    input.current?.focus();
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggestions.length > 0) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        setPick((p) => (p + (e.key === "ArrowDown" ? 1 : suggestions.length - 1)) % suggestions.length);
        return;
      }
      if ((e.key === "Enter" || e.key === "Tab") && !e.nativeEvent.isComposing) {
        e.preventDefault();
        choose(suggestions[Math.min(pick, suggestions.length - 1)]);
        return;
      }
    }
    if (e.key === "Escape" && editing) {
      setText("");
      props.onCancelEdit();
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      void send();
    }
  };

  const canSend = editing ? !!text.trim() && text.trim() !== editing.body : (!!text.trim() || ready.length > 0) && !uploading;

  return (
    <form className={`composer ${urgent ? "is-urgent" : ""} ${editing ? "is-editing" : ""}`} onSubmit={send}>
      {editing && (
        <div className="reply-bar">
          <Icon name="edit" />
          <div>
            <strong>{t("chat.editing")}</strong>
            <span>{editError ? t("common.error") : editing.body}</span>
          </div>
          <button
            type="button"
            className="icon-button"
            aria-label={t("chat.cancelEdit")}
            onClick={() => {
              setText("");
              props.onCancelEdit();
            }}
          >
            <Icon name="close" />
          </button>
        </div>
      )}
      {props.replyTo && !editing && (
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
      <UploadTray uploads={uploads} onRemove={remove} onRetry={retry} />
      {suggestions.length > 0 && (
        <ul className="mention-list" role="listbox" aria-label={t("chat.mentionPick")}>
          {suggestions.map((u, i) => (
            <li key={u.id} role="option" aria-selected={i === pick}>
              <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => choose(u)}>
                <Avatar name={u.display_name} id={u.id} size={36} />
                <span>{u.display_name}</span>
                <small>{u.kana}</small>
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-row">
        {!editing && (
          <>
            <input
              ref={camera}
              type="file"
              accept="image/*"
              capture="environment"
              className="visually-hidden"
              tabIndex={-1}
              aria-label={t("attach.camera")}
              onChange={(e) => {
                if (e.target.files?.length) add(e.target.files);
                e.target.value = "";
              }}
            />
            <input
              ref={files}
              type="file"
              multiple
              className="visually-hidden"
              tabIndex={-1}
              aria-label={t("attach.files")}
              onChange={(e) => {
                if (e.target.files?.length) add(e.target.files);
                e.target.value = "";
              }}
            />
            <button type="button" className="icon-button composer-tool" aria-label={t("attach.camera")} title={t("attach.camera")} onClick={() => camera.current?.click()}>
              <Icon name="camera" />
            </button>
            <button type="button" className="icon-button composer-tool" aria-label={t("attach.files")} title={t("attach.files")} onClick={() => files.current?.click()}>
              <Icon name="attach" />
            </button>
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
          </>
        )}
        <textarea
          ref={input}
          rows={1}
          aria-label={t("chat.placeholder")}
          placeholder={t("chat.placeholder")}
          value={text}
          aria-autocomplete="list"
          aria-expanded={suggestions.length > 0}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart ?? e.target.value.length);
            setPick(0);
            if (e.target.value && !editing) session.typing(props.id);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={onKey}
        />
        <button
          type="submit"
          className="send"
          aria-label={editing ? t("chat.saveEdit") : t("chat.send")}
          title={editing ? t("chat.saveEdit") : t("chat.send")}
          disabled={!canSend}
        >
          <Icon name={editing ? "check" : "send"} />
        </button>
      </div>
    </form>
  );
}

function DeleteDialog({ id, message, onClose }: { id: Uuid; message: Message; onClose: () => void }) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const [failed, setFailed] = useState(false);
  const [busy, setBusy] = useState(false);
  useModal(dialog);
  const confirm = async () => {
    setBusy(true);
    try {
      await session.deleteMessage(id, message.seq);
      onClose();
    } catch {
      setFailed(true);
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} className="popup" aria-labelledby="delete-title" onClose={onClose} onCancel={onClose}>
      <div className="confirm">
        <h2 id="delete-title">{t("chat.deleteTitle")}</h2>
        <p>{t("chat.deleteHint")}</p>
        {message.body && <blockquote>{message.body}</blockquote>}
        {failed && (
          <p className="form-error" role="alert">
            {t("common.error")}
          </p>
        )}
        <div className="confirm-actions">
          <button type="button" className="secondary" onClick={onClose}>
            {t("common.cancel")}
          </button>
          <button type="button" className="primary danger" onClick={() => void confirm()} disabled={busy}>
            {t("chat.delete")}
          </button>
        </div>
      </div>
    </dialog>
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

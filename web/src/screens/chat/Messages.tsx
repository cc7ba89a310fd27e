// One message of the timeline (with its menu, quote, attachments and receipt), and a pending
// send (sending, or failed with retry).

import { Fragment, useMemo, useState } from "react";
import { useI18n } from "../../i18n/i18n";
import type { Pending } from "../../state/timeline";
import { splitMentions } from "../../state/mentions";
import type { Message, Person, Uuid } from "../../types";
import { Avatar, Icon } from "../common";
import { AttachmentView } from "../Attachments";

export function MessageItem(props: {
  message: Message;
  mine: boolean;
  group: boolean;
  continued: boolean;
  /** opened from search: marked for a moment */
  highlighted?: boolean;
  senderName: string;
  quoted?: Message;
  quotedName: string;
  /** the delivery line under my own message ("既読 3/4", "確認済み 3/4") */
  receipt: { text: string; done: boolean; all: boolean; of: number; escalated: boolean } | null;
  /** an urgent message of someone else I have not acknowledged yet */
  owesAck: boolean;
  onAck: () => Promise<void>;
  onReply: () => void;
  onReceipts: () => void;
  onEdit: () => void;
  onDelete: () => void;
  users: Record<Uuid, Person>;
  me: Uuid;
}) {
  const { t, time } = useI18n();
  const { message: m, mine, receipt } = props;
  const urgent = m.priority === "urgent";
  const deleted = !!m.deleted_at;
  const [menu, setMenu] = useState(false);
  const [acking, setAcking] = useState<"idle" | "busy" | "failed">("idle");
  const ack = () => {
    setAcking("busy");
    props.onAck().then(
      () => setAcking("idle"),
      () => setAcking("failed"),
    );
  };
  const mentioned = useMemo(() => m.mentions.map((u) => props.users[u]).filter((u): u is Person => !!u), [m.mentions, props.users]);
  const mentionsMe = m.mentions.includes(props.me);
  return (
    <article
      className={`msg ${mine ? "mine" : "theirs"} ${props.continued ? "continued" : ""} ${urgent ? "urgent" : ""} ${mentionsMe ? "mentions-me" : ""} ${props.highlighted ? "highlighted" : ""}`}
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
            <button type="button" className={`receipt ${receipt.done ? "read" : ""} ${urgent ? "urgent" : ""} ${receipt.all ? "all" : ""}`} onClick={props.onReceipts} aria-haspopup="dialog">
              {receipt.text}
              {receipt.escalated && <span className="receipt-escalated"> · {t("delivery.escalatedShort")}</span>}
            </button>
          )}
        </div>
        {props.owesAck && (
          <div className="ack-row">
            <button type="button" className="ack-button" disabled={acking === "busy"} onClick={ack}>
              <Icon name="check" /> {t("delivery.ack")}
            </button>
            {acking === "failed" && <span className="form-error" role="alert">{t("common.error")}</span>}
          </div>
        )}
      </div>
    </article>
  );
}

export function PendingItem({ pending: p, onRetry }: { pending: Pending; onRetry: () => void }) {
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


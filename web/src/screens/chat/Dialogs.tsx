// The chat's small dialogs: confirm deleting a message, how far a message got with each person
// (sent, pushed, delivered, read, acknowledged, escalated to a covering colleague).

import { useEffect, useState } from "react";
import { session } from "../../session";
import { useI18n } from "../../i18n/i18n";
import { useSession } from "../../hooks";
import { lineText, personLines, summarize } from "../../state/delivery";
import type { Message, Uuid } from "../../types";
import { Avatar } from "../common";
import { Sheet } from "../Sheet";

export function DeleteDialog({ id, message, onClose }: { id: Uuid; message: Message; onClose: () => void }) {
  const { t } = useI18n();
  const [failed, setFailed] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await session.messages.delete(id, message.seq);
      onClose();
    } catch {
      setFailed(true);
      setBusy(false);
    }
  };
  return (
    <Sheet kind="popup" titleId="delete-title" onClose={onClose}>
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
    </Sheet>
  );
}

export function ReceiptsDialog(props: { id: Uuid; seq: number; urgent: boolean; onClose: () => void; name: (u: Uuid) => string }) {
  const { id, seq, onClose, name } = props;
  const { t, time } = useI18n();
  const state = useSession();
  const [loaded, setLoaded] = useState(false);
  const [failed, setFailed] = useState(false);
  const chat = state.chats[id];
  const me = state.me!.user.id;

  useEffect(() => {
    session.messages.loadDelivery(id, seq).then(() => setLoaded(true), () => setFailed(true));
  }, [id, seq]);

  const lines = chat ? personLines(chat.delivery, chat.readMarks, chat.members, me, seq) : [];
  const summary = chat ? summarize(chat.delivery, chat.readMarks, chat.members, me, seq, props.urgent) : null;
  const line = summary ? lineText(summary) : null;
  return (
    <Sheet kind="popup" titleId="receipts-title" title={t("delivery.title")} onClose={onClose}>
      {line && <p className="receipts-summary">{t(line.key, { n: line.n, of: line.of })}</p>}
      {!loaded && !failed && <p className="timeline-note">{t("common.loading")}</p>}
      {failed && <p className="form-error">{t("common.error")}</p>}
      <ul className="readers">
        {lines.map((r) => (
          <li key={r.user_id}>
            <Avatar name={name(r.user_id)} id={r.user_id} size={36} />
            <span className="reader-main">
              <span className="reader-name">{name(r.user_id)}</span>
              {r.escalated_to && <span className="reader-escalated">{t("delivery.escalatedTo", { name: name(r.escalated_to) })}</span>}
            </span>
            <span className={`reader-state state-${r.state} ${r.state === "read" || r.state === "acknowledged" ? "read" : ""}`}>
              {t(`delivery.state.${r.state}`)}
              {r.acknowledged_at && <time dateTime={r.acknowledged_at}> {time(r.acknowledged_at)}</time>}
            </span>
          </li>
        ))}
      </ul>
      <p className="info-hint receipts-hint">{t(props.urgent ? "delivery.hintUrgent" : "delivery.hint")}</p>
    </Sheet>
  );
}

// The chat's small dialogs: confirm deleting a message, who has read a message.

import { useEffect, useState } from "react";
import { session } from "../../session";
import { useI18n } from "../../i18n/i18n";
import type { Message, Receipts, Uuid } from "../../types";
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

export function ReceiptsDialog({ id, seq, onClose, name }: { id: Uuid; seq: number; onClose: () => void; name: (u: Uuid) => string }) {
  const { t } = useI18n();
  const [data, setData] = useState<Receipts | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    session.messages.receipts(id, seq).then(setData, () => setFailed(true));
  }, [id, seq]);

  return (
    <Sheet kind="popup" titleId="receipts-title" title={t("chat.readers")} onClose={onClose}>
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
    </Sheet>
  );
}

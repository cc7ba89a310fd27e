//! Sharing a study (or one annotated frame of it, a key image) into a conversation: pick the
//! conversation, add a note, send a message with the study attached (it arrives as a card, or
//! a key image's thumbnail, that opens the viewer).

import { useState, type FormEvent } from "react";
import { session } from "../session";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import type { Study, Uuid } from "../types";
import { Avatar, PickRow, conversationTitle } from "./common";
import { Sheet } from "./Sheet";
import { conversationAvatarId } from "../state/avatar";
import { StudySummary } from "./StudyCard";

export function ShareStudy({
  study,
  keyImage,
  onClose,
  onShared,
}: {
  study: Study;
  /** a key image: the study's frame with its annotations */
  keyImage?: { sop_uid: string; frame: number; presentation_uid?: string };
  onClose: () => void;
  onShared: (id: Uuid) => void;
}) {
  const { t } = useI18n();
  const state = useSession();
  const [picked, setPicked] = useState<Uuid | null>(null);
  const [note, setNote] = useState("");
  const unknown = t("chat.unknownUser");

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!picked) return;
    session.sender.send(picked, note.trim(), "normal", null, { attachments: [{ kind: "study", id: study.id, ...(keyImage ? { key_image: keyImage } : {}) }] });
    onShared(picked);
  };

  return (
    <Sheet titleId="share-title" title={keyImage ? t("keyImage.title") : t("share.title")} onClose={onClose} onSubmit={submit}>
      <div className="share-study">
        <StudySummary study={study} />
      </div>
      <fieldset className="share-pick">
        <legend>{t("share.pick")}</legend>
        <ul className="people">
          {state.conversations.map((c) => {
            const title = conversationTitle(c, state, unknown);
            return (
              <PickRow
                key={c.id}
                name="share-to"
                on={picked === c.id}
                onChange={() => setPicked(c.id)}
                avatar={<Avatar name={title} id={conversationAvatarId(c, state.peers[c.id])} size={40} group={c.kind === "group"} />}
                title={title}
                sub={c.kind === "group" ? t("list.groupOf", { n: c.member_count }) : t("list.direct")}
              />
            );
          })}
          {state.conversations.length === 0 && <li className="list-empty">{t("share.noConversations")}</li>}
        </ul>
      </fieldset>
      <footer className="sheet-footer">
        <label className="field">
          <span>{t("share.note")}</span>
          <input value={note} onChange={(e) => setNote(e.target.value)} placeholder={t("share.notePlaceholder")} maxLength={2000} />
        </label>
        <button className="primary" type="submit" disabled={!picked}>
          {t("share.send")}
        </button>
      </footer>
    </Sheet>
  );
}

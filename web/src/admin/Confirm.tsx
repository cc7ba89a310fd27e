// A confirmation step for a destructive action: the question and two buttons, in place,
// scrolled into view (on a phone the buttons that ask are often at the bottom of a long form).

import { useEffect, useRef } from "react";
import { useI18n } from "../i18n/i18n";

export function Confirm({ question, onYes, onNo }: { question: string; onYes: () => void; onNo: () => void }) {
  const { t } = useI18n();
  const box = useRef<HTMLDivElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    box.current?.scrollIntoView?.({ block: "center" });
    cancel.current?.focus({ preventScroll: true });
  }, [question]);
  return (
    <div ref={box} className="admin-confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-question">
      <strong id="confirm-title">{t("admin.confirm.title")}</strong>
      <p id="confirm-question">{question}</p>
      <div className="admin-actions">
        <button type="button" className="primary danger" onClick={onYes}>
          {t("admin.confirm.go")}
        </button>
        <button ref={cancel} type="button" className="secondary" onClick={onNo}>
          {t("common.cancel")}
        </button>
      </div>
    </div>
  );
}

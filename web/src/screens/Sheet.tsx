// The one modal dialog of the app: a sheet (the whole screen on a phone, a card on a wider
// one) or a small popup, opened as a modal <dialog> when it mounts, with a header holding the
// close button and the title. Escape and the close button close it (onClose).

import { useEffect, useRef, type FormEvent, type ReactNode } from "react";
import { useI18n } from "../i18n/i18n";
import { Icon } from "./common";

export interface SheetProps {
  /** The id of the dialog's title: the header's, or (without `title`) one in the content. */
  titleId: string;
  /** The header's title; without it there is no header and the content names the dialog. */
  title?: ReactNode;
  onClose: () => void;
  /** "sheet": full screen on a phone, a card on wider screens; "popup": a small card. */
  kind?: "sheet" | "popup";
  /** Extra classes of the dialog (its own layout). */
  className?: string;
  /** The close button's icon: "back" where the sheet is a step on from the screen below. */
  closeIcon?: "close" | "back";
  /** Beside the title: a count, a status. */
  aside?: ReactNode;
  /** The body is a form, submitted with this. */
  onSubmit?: (e: FormEvent) => void;
  children: ReactNode;
}

export function Sheet({ titleId, title, onClose, kind = "sheet", className, closeIcon = "close", aside, onSubmit, children }: SheetProps) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  const header = title !== undefined && (
    <header className="sheet-header">
      <button type="button" className="icon-button" aria-label={t("common.close")} onClick={onClose}>
        <Icon name={closeIcon} />
      </button>
      <h2 id={titleId}>{title}</h2>
      {aside}
    </header>
  );
  return (
    <dialog ref={dialog} className={[kind, className].filter(Boolean).join(" ")} aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      {onSubmit ? (
        <form onSubmit={onSubmit} className="sheet-body">
          {header}
          {children}
        </form>
      ) : (
        <div className="sheet-body">
          {header}
          {children}
        </div>
      )}
    </dialog>
  );
}

//! The annotation bar under the viewport: remove the selected shape, save what is drawn on the
//! frame to the study, send the frame as a key image; and the free-text input.

import { useState, type FormEvent } from "react";
import { useI18n } from "../../i18n/i18n";
import { MAX_TEXT, type Shape } from "../../state/annotations";
import "./annotate.css";

/** What the viewer does with annotations: those stored (by `frameKey`), saving, sending. */
export interface Annotating {
  saved: Map<string, Shape[]>;
  /** the newest presentation state holding a frame's annotations */
  presentationOf: (key: string) => string | null;
  /** stores shapes on a frame; answers the presentation state's UID */
  save: (sop: string, frame: number, shapes: Shape[]) => Promise<string>;
  /** opens the conversation picker for a key image of the frame */
  send: (sop: string, frame: number, presentation: string | null) => void;
}

export function AnnotateBar(props: { unsaved: number; annotated: boolean; selected: boolean; onRemove: () => void; onSave: () => Promise<unknown>; onSend: () => Promise<void> }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const run = (work: () => Promise<unknown>) => async () => {
    setBusy(true);
    setFailed(false);
    try {
      await work();
    } catch {
      setFailed(true);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="annotate-bar" role="group" aria-label={t("annotate.bar")}>
      <span className="annotate-status" aria-live="polite">
        {failed ? t("annotate.failed") : props.unsaved > 0 ? t("annotate.unsaved", { n: props.unsaved }) : props.annotated ? t("annotate.saved") : t("annotate.hint")}
      </span>
      {props.selected && (
        <button type="button" className="annotate-action" onClick={props.onRemove}>
          {t("annotate.remove")}
        </button>
      )}
      {props.unsaved > 0 && (
        <button type="button" className="annotate-action" disabled={busy} onClick={run(props.onSave)}>
          {t("annotate.save")}
        </button>
      )}
      {props.annotated && (
        <button type="button" className="annotate-action primary" disabled={busy} onClick={run(props.onSend)}>
          {t("annotate.send")}
        </button>
      )}
    </div>
  );
}

/** The text to place where the text tool was tapped (empty or cancelled: nothing). */
export function TextInput({ onDone }: { onDone: (text: string) => void }) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onDone(text);
  };
  return (
    <form className="annotate-text" onSubmit={submit}>
      <input autoFocus value={text} maxLength={MAX_TEXT} aria-label={t("annotate.textLabel")} placeholder={t("annotate.textLabel")} onChange={(e) => setText(e.target.value)} />
      <button type="submit" className="annotate-action primary">
        {t("annotate.place")}
      </button>
      <button type="button" className="annotate-action" onClick={() => onDone("")}>
        {t("common.cancel")}
      </button>
    </form>
  );
}

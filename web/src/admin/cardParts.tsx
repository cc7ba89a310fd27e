// The parts shared by the console's list cards (imaging connections, redaction rules): a list
// loaded from one URL, the card's messages, the list as a table, and a two-step remove button.

import { useCallback, useEffect, useState, type ReactNode } from "react";
import { useI18n } from "../i18n/i18n";
import { call, type Reply } from "./api";
import { ReplyError } from "./parts";

/** The list at `url` (null until loaded), how to load it again, and the last failed reply. */
export function useList<T>(url: string) {
  const [items, setItems] = useState<T[] | null>(null);
  const [reply, setReply] = useState<Reply | null>(null);
  const load = useCallback(async () => {
    const r = await call("GET", url);
    if (r.status === 200) setItems(r.body);
    else setReply(r);
  }, [url]);
  useEffect(() => void load(), [load]);
  return { items, load, reply, setReply };
}

/** A card's messages: a problem found before sending, the server's refusal, and what was done. */
export function CardMessages({ problem, reply, notice }: { problem?: string | null; reply: Reply | null; notice?: ReactNode }) {
  return (
    <>
      {problem && (
        <p className="admin-error" role="alert">
          {problem}
        </p>
      )}
      <ReplyError reply={reply} />
      {notice && (
        <p className="admin-ok" role="status">
          {notice}
        </p>
      )}
    </>
  );
}

/** "Remove", then a second, explicit button to confirm (or cancel) before anything goes. */
export function RemoveButton(props: { confirming: boolean; confirmLabel: string; onAsk: () => void; onCancel: () => void; onConfirm: () => void }) {
  const { t } = useI18n();
  if (!props.confirming)
    return (
      <button type="button" className="secondary small" onClick={props.onAsk}>
        {t("admin.remove")}
      </button>
    );
  return (
    <>
      <button type="button" className="primary danger small" onClick={props.onConfirm}>
        {props.confirmLabel}
      </button>
      <button type="button" className="secondary small" onClick={props.onCancel}>
        {t("common.cancel")}
      </button>
    </>
  );
}

/** A list as a table with a hidden "actions" column, or a line saying it is empty. */
export function Listing<T>({ items, empty, columns, row }: { items: T[] | null; empty: string; columns: string[]; row: (item: T) => ReactNode }) {
  const { t } = useI18n();
  if (!items) return null;
  if (items.length === 0) return <p>{empty}</p>;
  return (
    <table className="admin-table">
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" key={c}>
              {c}
            </th>
          ))}
          <th scope="col">
            <span className="visually-hidden">{t("admin.dicom.actions")}</span>
          </th>
        </tr>
      </thead>
      <tbody>{items.map(row)}</tbody>
    </table>
  );
}

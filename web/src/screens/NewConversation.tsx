import { useState, type FormEvent } from "react";
import { session } from "../session";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { asPerson } from "../cooperation/api";
import { useDirectory } from "../cooperation/useDirectory";
import { Avatar, Icon, PickRow } from "./common";
import { Sheet } from "./Sheet";

export function NewConversation({ onClose, onCreated }: { onClose: () => void; onCreated: (id: string) => void }) {
  const { t } = useI18n();
  const state = useSession();
  const [query, setQuery] = useState("");
  const [picked, setPicked] = useState<string[]>([]);
  const [title, setTitle] = useState("");
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);
  const me = state.me!.user.id;

  // The directory searches colleagues here and at partner hospitals, ranked by the server.
  const found = useDirectory(query);
  const people = found.items.filter((u) => u.id !== me);

  const toggle = (id: string) => {
    const person = people.find((u) => u.id === id);
    if (person) session.people.remember([asPerson(person)]);
    setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  };
  const group = picked.length > 1;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (picked.length === 0) return setError("new.pick");
    if (group && !title.trim()) return setError("new.titleRequired");
    setBusy(true);
    setError(null);
    try {
      const id = await session.conversations.create(group ? "group" : "direct", picked, group ? title.trim() : undefined);
      onCreated(id);
    } catch {
      setError("common.error");
      setBusy(false);
    }
  }

  return (
    <Sheet
      titleId="new-title"
      title={t("new.title")}
      onClose={onClose}
      onSubmit={submit}
      aside={
        <span className="sheet-count" aria-live="polite">
          {picked.length > 0 ? t("new.selected", { n: picked.length }) : ""}
        </span>
      }
    >
      <div className="search">
        <Icon name="search" />
        <input
          type="search"
          autoFocus
          aria-label={t("new.search")}
          placeholder={t("new.search")}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      {picked.length > 0 && (
        <ul className="chips" aria-label={t("new.selected", { n: picked.length })}>
          {picked.map((id) => (
            <li key={id}>
              <button type="button" className="chip" onClick={() => toggle(id)} aria-label={`${state.users[id]?.display_name ?? ""} ×`}>
                {state.users[id]?.display_name} <Icon name="close" />
              </button>
            </li>
          ))}
        </ul>
      )}
      <ul className="people" aria-label={t("new.search")}>
        {people.map((u) => (
          <PickRow
            key={u.id}
            on={picked.includes(u.id)}
            onChange={() => toggle(u.id)}
            avatar={<Avatar name={u.display_name} id={u.id} size={40} />}
            title={u.display_name}
            sub={[
              u.kana,
              t(`profession.${u.profession}` as MessageKey),
              u.org_id !== state.me!.organization.id ? u.org_name : null,
            ]
              .filter(Boolean)
              .join(" · ")}
          />
        ))}
        {people.length === 0 && !found.loading && <li className="list-empty">{t("new.noPeople")}</li>}
        {found.hasMore && (
          <li>
            <button type="button" className="link-button" onClick={found.more}>
              {t("coop.more")}
            </button>
          </li>
        )}
      </ul>
      <footer className="sheet-footer">
        {group && (
          <label className="field">
            <span>{t("new.groupTitle")}</span>
            <input name="group-title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={100} />
          </label>
        )}
        <p className="form-error" role="alert">
          {error ? t(error) : ""}
        </p>
        <button className="primary" type="submit" disabled={busy || picked.length === 0}>
          {group ? t("new.startGroup") : t("new.startDirect")}
        </button>
      </footer>
    </Sheet>
  );
}

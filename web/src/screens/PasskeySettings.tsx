// Passkeys (from the menu): the user's passkeys with when each was added and last used (a
// blocked one marked), adding one on this device under a name, and removing one.

import { useEffect, useState, type FormEvent } from "react";
import { ApiError, api } from "../api";
import type { components } from "../api/schema";
import { session } from "../session";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { passkeysSupported } from "../state/passkey";
import { Icon } from "./common";
import { Sheet } from "./Sheet";
import "./chat/chat.css";
import "./push.css";

type PasskeyView = components["schemas"]["PasskeyView"];

/** What to tell the user about a failed passkey step. */
export function passkeyErrorKey(e: unknown): MessageKey {
  if (e instanceof DOMException) return e.name === "NotAllowedError" || e.name === "AbortError" ? "passkey.cancelled" : "passkey.unsupported";
  if (!(e instanceof ApiError)) return "common.error";
  if (e.status === 0) return "common.networkError";
  switch (e.code) {
    case "passkey_refused":
      return "passkey.refused";
    case "passkey_cloned":
      return "passkey.cloned";
    case "passkeys_unavailable":
      return "passkey.unavailable";
    case "challenge_invalid":
      return "passkey.cancelled";
    case "passkey_taken":
      return "passkey.taken";
    case "name_invalid":
      return "passkey.nameInvalid";
    case "account_pending":
    case "account_suspended":
    case "account_retired":
      return "login.refused";
  }
  if (e.status === 423) return "login.accountLocked";
  if (e.status === 429) return "login.rateLimited";
  return "common.error";
}

export function PasskeySettings({ onClose }: { onClose: () => void }) {
  const { t, shortTime } = useI18n();
  const [passkeys, setPasskeys] = useState<PasskeyView[] | null>(null);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<MessageKey | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const load = () => api.passkeys().then(setPasskeys, (e) => setError(passkeyErrorKey(e)));
  useEffect(() => void load(), []);

  async function add(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const added = await session.addPasskey(name.trim());
      setDone(t("passkey.added", { name: added.name }));
      setName("");
      await load();
    } catch (err) {
      setError(passkeyErrorKey(err));
    }
    setBusy(false);
  }

  async function remove(p: PasskeyView) {
    setError(null);
    setDone(null);
    try {
      await api.removePasskey(p.id);
      setDone(t("passkey.removed", { name: p.name }));
      await load();
    } catch (err) {
      setError(passkeyErrorKey(err));
    }
  }

  return (
    <Sheet titleId="passkey-title" title={t("passkey.title")} onClose={onClose} className="group-info push-settings">
      <div className="info-scroll">
        <section className="info-section" aria-labelledby="passkey-list-title">
          <p className="info-hint">{t("passkey.intro")}</p>
          <h3 id="passkey-list-title">{t("passkey.yours")}</h3>
          {passkeys?.length === 0 && <p className="info-hint">{t("passkey.none")}</p>}
          <ul className="push-devices" aria-labelledby="passkey-list-title">
            {passkeys?.map((p) => (
              <li key={p.id} className={p.cloned ? "failing" : ""}>
                <span className="person-main">
                  <span className="person-name">
                    <Icon name="lock" /> {p.name}
                    {p.cloned && <span className="trouble-here">{t("passkey.blocked")}</span>}
                  </span>
                  <span className="person-sub">
                    {t("passkey.createdAt", { time: shortTime(p.created_at) })} ·{" "}
                    {p.last_used_at ? t("passkey.lastUsed", { time: shortTime(p.last_used_at) }) : t("passkey.neverUsed")}
                  </span>
                </span>
                <button type="button" className="secondary small danger" aria-label={t("passkey.removeWho", { name: p.name })} onClick={() => void remove(p)}>
                  {t("passkey.remove")}
                </button>
              </li>
            ))}
          </ul>
        </section>
        <section className="info-section" aria-labelledby="passkey-add-title">
          <h3 id="passkey-add-title">{t("passkey.add")}</h3>
          {passkeysSupported() ? (
            <form className="form" onSubmit={add} noValidate>
              <label className="field">
                <span>{t("passkey.name")}</span>
                <input name="passkey-name" maxLength={60} placeholder={t("passkey.namePlaceholder")} value={name} onChange={(e) => setName(e.target.value)} />
              </label>
              <button className="primary" type="submit" disabled={busy || !name.trim()}>
                <Icon name="plus" /> {t("passkey.add")}
              </button>
            </form>
          ) : (
            <p className="info-hint">{t("passkey.unsupported")}</p>
          )}
          {done && <p role="status" className="push-state ok">{done}</p>}
          {error && <p className="form-error" role="alert">{t(error)}</p>}
        </section>
      </div>
    </Sheet>
  );
}

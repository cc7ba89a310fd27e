import { useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { session } from "../session";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { AuthLayout, FormError } from "./AuthLayout";

/** What each refusal of a new password says. */
const REFUSALS: Record<string, MessageKey> = {
  wrong_password: "password.wrong",
  password_unchanged: "password.unchanged",
  weak_password: "password.weak",
  password_too_common: "password.tooCommon",
  password_contains_login: "password.containsLogin",
  password_contains_name: "password.containsName",
};

/** Where changing one's own password from the menu words a refusal differently. */
const OWN_REFUSALS: Record<string, MessageKey> = {
  wrong_password: "password.wrongOwn",
  password_unchanged: "password.unchangedOwn",
};

export function ChangePassword() {
  const { t } = useI18n();
  const { changeVoluntary } = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (next !== again) return setError("password.mismatch");
    if ([...next].length < 10) return setError("password.weak");
    setBusy(true);
    setError(null);
    try {
      await session.changePassword(current, next);
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "";
      setError(
        (changeVoluntary ? OWN_REFUSALS[code] : undefined) ??
          REFUSALS[code] ??
          (err instanceof ApiError && err.status === 422
            ? "password.weak"
            : err instanceof ApiError && err.status === 0
              ? "common.networkError"
              : "common.error"),
      );
      setBusy(false);
    }
  }

  return (
    <AuthLayout title={t(changeVoluntary ? "password.changeTitle" : "password.title")}>
      {!changeVoluntary && <p className="intro">{t("password.intro")}</p>}
      <form onSubmit={submit} className="form" noValidate>
        <label className="field">
          <span>{t(changeVoluntary ? "password.currentOwn" : "password.current")}</span>
          <input name="current" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        </label>
        <div className="field">
          <label htmlFor="new-password">{t("password.new")}</label>
          <input
            id="new-password"
            name="new"
            type="password"
            autoComplete="new-password"
            aria-describedby="password-hint"
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
          <small id="password-hint">{t("password.hint")}</small>
        </div>
        <label className="field">
          <span>{t("password.confirm")}</span>
          <input name="confirm" type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
        </label>
        <FormError message={error && t(error)} />
        <button className="primary" type="submit" disabled={busy || !current || !next || !again}>
          {t("password.submit")}
        </button>
        {changeVoluntary && (
          <button className="secondary" type="button" onClick={() => session.cancelChange()}>
            {t("common.cancel")}
          </button>
        )}
      </form>
    </AuthLayout>
  );
}

import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { session } from "../session";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { AuthLayout, FormError } from "./AuthLayout";
import { LockIcon } from "./SetPasscode";

/** Shown instead of everything else: no conversation data is in memory while it is up. */
export function LockScreen() {
  const { t } = useI18n();
  const { me } = useSession();
  const [code, setCode] = useState("");
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => input.current?.focus(), []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.unlock(code);
    } catch (err) {
      setCode("");
      if (err instanceof ApiError && err.status === 423) {
        setError("lock.accountLocked");
      } else if (err instanceof ApiError && err.status === 401) {
        await session.signOut();
        return;
      } else {
        setError(
          err instanceof ApiError && err.status === 403
            ? "lock.wrong"
            : err instanceof ApiError && err.status === 429
              ? "login.rateLimited"
              : "common.error",
        );
      }
      setBusy(false);
      input.current?.focus();
    }
  }

  return (
    <AuthLayout title={t("lock.title")} icon={<LockIcon />}>
      {me && <p className="lock-user">{me.user.display_name}</p>}
      <p className="intro">{t("lock.intro")}</p>
      <form onSubmit={submit} className="form" noValidate>
        <label className="field">
          <span>{t("lock.field")}</span>
          <input
            ref={input}
            name="unlock-passcode"
            type="password"
            inputMode="numeric"
            autoComplete="off"
            maxLength={12}
            className="passcode-input"
            value={code}
            onChange={(e) => setCode(e.target.value.replace(/\D/g, ""))}
          />
        </label>
        <FormError message={error && t(error)} />
        <button className="primary" type="submit" disabled={busy || code.length < 4}>
          {t("lock.submit")}
        </button>
        <button className="link" type="button" onClick={() => void session.signOut()}>
          {t("lock.signOut")}
        </button>
      </form>
    </AuthLayout>
  );
}

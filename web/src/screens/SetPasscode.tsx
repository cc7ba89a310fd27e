import { useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { session } from "../session";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { AuthLayout, FormError } from "./AuthLayout";

export function SetPasscode() {
  const { t } = useI18n();
  const { me, changeVoluntary } = useSession();
  const [code, setCode] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);
  const required = me?.organization.policy.passcode_required ?? false;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!/^\d{4,12}$/.test(code)) return setError("passcode.invalid");
    if (code !== again) return setError("passcode.mismatch");
    setBusy(true);
    setError(null);
    try {
      await session.setPasscode(code);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 422 ? "passcode.invalid" : "common.error");
      setBusy(false);
    }
  }

  return (
    <AuthLayout title={t(changeVoluntary && me?.has_passcode ? "passcode.changeTitle" : "passcode.title")} icon={<LockIcon />}>
      <p className="intro">{t("passcode.intro")}</p>
      {required && <p className="notice">{t("passcode.required")}</p>}
      <form onSubmit={submit} className="form" noValidate>
        <label className="field">
          <span>{t("passcode.field")}</span>
          <input
            name="passcode"
            type="password"
            inputMode="numeric"
            autoComplete="off"
            pattern="[0-9]*"
            maxLength={12}
            value={code}
            onChange={(e) => setCode(e.target.value.replace(/\D/g, ""))}
          />
        </label>
        <label className="field">
          <span>{t("passcode.confirm")}</span>
          <input
            name="passcode-confirm"
            type="password"
            inputMode="numeric"
            autoComplete="off"
            pattern="[0-9]*"
            maxLength={12}
            value={again}
            onChange={(e) => setAgain(e.target.value.replace(/\D/g, ""))}
          />
        </label>
        <FormError message={error && t(error)} />
        <button className="primary" type="submit" disabled={busy || !code || !again}>
          {t("passcode.submit")}
        </button>
        {changeVoluntary ? (
          <button className="secondary" type="button" onClick={() => session.cancelChange()}>
            {t("common.cancel")}
          </button>
        ) : (
          !required && (
            <button className="secondary" type="button" onClick={() => session.skipPasscode()}>
              {t("passcode.skip")}
            </button>
          )
        )}
      </form>
    </AuthLayout>
  );
}

export function LockIcon() {
  return (
    <svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M12 2a5 5 0 0 0-5 5v3H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8a2 2 0 0 0-2-2h-1V7a5 5 0 0 0-5-5Zm-3 5a3 3 0 1 1 6 0v3H9V7Zm3 7a2 2 0 0 1 1 3.73V19h-2v-1.27A2 2 0 0 1 12 14Z"
      />
    </svg>
  );
}

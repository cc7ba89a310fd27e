import { useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { session } from "../session";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { AuthLayout, FormError } from "./AuthLayout";

export function loginErrorKey(e: unknown): MessageKey {
  if (!(e instanceof ApiError)) return "common.error";
  if (e.status === 0) return "common.networkError";
  if (e.status === 401) return "login.invalid";
  if (e.status === 423) return "login.accountLocked";
  if (e.status === 429) return "login.rateLimited";
  if (e.status === 403) return "login.refused";
  return "common.error";
}

export function Login() {
  const { t } = useI18n();
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.login(login.trim(), password);
    } catch (err) {
      setError(loginErrorKey(err));
      setBusy(false);
    }
  }

  return (
    <AuthLayout title={t("login.title")}>
      <form onSubmit={submit} className="form" noValidate>
        <label className="field">
          <span>{t("login.login")}</span>
          <input
            name="login"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={login}
            onChange={(e) => setLogin(e.target.value)}
          />
        </label>
        <label className="field">
          <span>{t("login.password")}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <FormError message={error && t(error)} />
        <button className="primary" type="submit" disabled={busy || !login || !password}>
          {t("login.submit")}
        </button>
      </form>
    </AuthLayout>
  );
}

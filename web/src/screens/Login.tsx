import { useEffect, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { session } from "../session";
import { useI18n } from "../i18n/i18n";
import { signInNotice, type SignInNotice } from "../state/signIn";
import { AuthLayout, FormError } from "./AuthLayout";
import { passkeysSupported } from "../state/passkey";
import { passkeyErrorKey } from "./PasskeySettings";
import type { MessageKey } from "../i18n/catalog";

interface SsoChoice {
  id: string;
  name: string;
  start_path: string;
}

/** The refusal the identity provider's sign-in came back with (`/?sso_error=…`), read once. */
function takeSsoError(): string | null {
  const code = new URLSearchParams(window.location.search).get("sso_error");
  if (code) window.history.replaceState(null, "", window.location.pathname);
  return code;
}

/** Organizations whose people sign in with their hospital's account. */
function useSsoChoices(): SsoChoice[] {
  const [choices, setChoices] = useState<SsoChoice[]>([]);
  useEffect(() => {
    let live = true;
    fetch("/api/v1/auth/sso", { credentials: "same-origin", cache: "no-store" })
      .then((r) => (r.ok ? r.json() : { organizations: [] }))
      .then((b: { organizations?: SsoChoice[] }) => live && setChoices(b.organizations ?? []))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  return choices;
}

/** The notice for a failed sign-in: attempts left, or when the wait or lock ends. */
function noticeOf(e: unknown): SignInNotice {
  if (!(e instanceof ApiError)) return { key: "common.error" };
  return signInNotice(e, Date.now());
}

export function Login() {
  const { t, time } = useI18n();
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<SignInNotice | null>(null);
  const [busy, setBusy] = useState(false);
  const [passkeyError, setPasskeyError] = useState<MessageKey | null>(null);

  async function withPasskey() {
    setBusy(true);
    setError(null);
    setPasskeyError(null);
    try {
      await session.loginWithPasskey();
    } catch (err) {
      setPasskeyError(passkeyErrorKey(err));
      setBusy(false);
    }
  }
  const [ssoError] = useState(takeSsoError);
  const choices = useSsoChoices();
  const ssoMessage = (code: string) => {
    const key = `sso.error.${code}` as MessageKey;
    const text = t(key);
    return text === key ? t("sso.error.generic") : text;
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.login(login.trim(), password);
    } catch (err) {
      if (err instanceof ApiError && err.code === "sso_required") {
        setError({ key: "sso.error.sso_required" });
        setBusy(false);
        return;
      }
      setError(noticeOf(err));
      setBusy(false);
    }
  }

  return (
    <AuthLayout title={t("login.title")}>
      {choices.length > 0 && (
        <div className="sso-choices">
          {choices.map((c) => (
            <a key={c.id} className="button primary sso-button" href={c.start_path}>
              {choices.length === 1 ? t("sso.signIn") : t("sso.signInAt", { name: c.name })}
            </a>
          ))}
          <p className="sso-or">{t("sso.or")}</p>
        </div>
      )}
      {ssoError && <FormError message={ssoMessage(ssoError)} />}
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
        <FormError
          message={
            error &&
            t(error.key, {
              n: error.n ?? 0,
              seconds: error.seconds ?? 0,
              time: error.until ? time(new Date(error.until).toISOString()) : "",
            })
          }
        />
        <button className="primary" type="submit" disabled={busy || !login || !password}>
          {t("login.submit")}
        </button>
      </form>
      {passkeysSupported() && (
        <div className="form passkey-sign-in">
          <p className="divider">
            <span>{t("passkey.or")}</span>
          </p>
          <button className="secondary" type="button" disabled={busy} onClick={() => void withPasskey()}>
            {t("passkey.signIn")}
          </button>
          <FormError message={passkeyError && t(passkeyError)} />
        </div>
      )}
    </AuthLayout>
  );
}

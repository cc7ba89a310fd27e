// The second factor at sign-in: a passkey, or entering the authenticator's code (or a recovery
// code), and setting up an authenticator app (key, otpauth link, first code, recovery codes
// shown once) or a passkey.

import { useEffect, useState, type FormEvent } from "react";
import { ApiError, api } from "../api";
import { passkeysSupported } from "../state/passkey";
import { passkeyErrorKey } from "./PasskeySettings";
import { session } from "../session";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { codeToSend, groupSecret, isTotpCode } from "../state/secondFactor";
import { AuthLayout, FormError } from "./AuthLayout";
import { LockIcon } from "./SetPasscode";

function codeErrorKey(e: unknown): MessageKey {
  if (!(e instanceof ApiError)) return "common.error";
  if (e.status === 0) return "common.networkError";
  if (e.code === "wrong_code") return "twofa.wrong";
  if (e.code === "code_already_used") return "twofa.used";
  if (e.status === 423) return "login.accountLocked";
  if (e.status === 429) return "login.rateLimited";
  if (e.status === 401) return "twofa.sessionEnded";
  return "common.error";
}

/** Use a passkey (the user has one), or enter the six digits of the authenticator app or a
 *  recovery code (the user has the app). */
export function VerifySecondFactor() {
  const { t } = useI18n();
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);
  const [factors, setFactors] = useState<{ app: boolean; passkeys: boolean } | null>(null);
  const toSend = codeToSend(code);

  useEffect(() => {
    let live = true;
    api.secondFactorStatus().then(
      (s) => live && setFactors({ app: s.enrolled, passkeys: s.passkeys > 0 }),
      () => live && setFactors({ app: true, passkeys: false }),
    );
    return () => {
      live = false;
    };
  }, []);

  async function withPasskey() {
    setBusy(true);
    setError(null);
    try {
      await session.verifyWithPasskey();
    } catch (err) {
      setError(passkeyErrorKey(err));
      setBusy(false);
    }
  }

  if (factors && !factors.app) {
    return (
      <AuthLayout title={t("twofa.title")} icon={<LockIcon />}>
        <p className="intro">{t("passkey.verifyIntro")}</p>
        <div className="form">
          <FormError message={error && t(error)} />
          <button className="primary" type="button" disabled={busy} onClick={() => void withPasskey()}>
            {t("passkey.use")}
          </button>
          <button className="secondary" type="button" onClick={() => void session.signOut()}>
            {t("lock.signOut")}
          </button>
        </div>
      </AuthLayout>
    );
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!toSend) return setError(recovery ? "twofa.recoveryInvalid" : "twofa.invalid");
    setBusy(true);
    setError(null);
    try {
      await session.verifySecondFactor(toSend);
    } catch (err) {
      setError(codeErrorKey(err));
      setCode("");
      setBusy(false);
    }
  }

  return (
    <AuthLayout title={t("twofa.title")} icon={<LockIcon />}>
      <p className="intro">{t(recovery ? "twofa.recoveryIntro" : "twofa.intro")}</p>
      <form onSubmit={submit} className="form" noValidate>
        <label className="field">
          <span>{t(recovery ? "twofa.recoveryField" : "twofa.field")}</span>
          <input
            name="code"
            autoComplete="one-time-code"
            inputMode={recovery ? "text" : "numeric"}
            autoCapitalize="none"
            spellCheck={false}
            maxLength={recovery ? 24 : 8}
            autoFocus
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        </label>
        <FormError message={error && t(error)} />
        <button className="primary" type="submit" disabled={busy || !code.trim()}>
          {t("twofa.submit")}
        </button>
        <button
          className="link"
          type="button"
          onClick={() => (setRecovery(!recovery), setCode(""), setError(null))}
        >
          {t(recovery ? "twofa.useApp" : "twofa.useRecovery")}
        </button>
        {factors?.passkeys && passkeysSupported() && (
          <button className="secondary" type="button" disabled={busy} onClick={() => void withPasskey()}>
            {t("passkey.use")}
          </button>
        )}
        <button className="secondary" type="button" onClick={() => void session.signOut()}>
          {t("lock.signOut")}
        </button>
      </form>
    </AuthLayout>
  );
}

/** The otpauth link as a QR code to scan with the phone (the encoder loads with this screen). */
function QrCode({ uri, label }: { uri: string; label: string }) {
  const [drawn, setDrawn] = useState<{ size: number; path: string } | null>(null);
  useEffect(() => {
    let live = true;
    void import("../state/qr").then(({ qrMatrix, svgPath }) => {
      const m = qrMatrix(uri);
      if (live) setDrawn({ size: m.size, path: svgPath(m) });
    });
    return () => {
      live = false;
    };
  }, [uri]);
  if (!drawn) return null;
  const quiet = 4;
  const side = drawn.size + 2 * quiet;
  return (
    <svg className="qr" viewBox={`${-quiet} ${-quiet} ${side} ${side}`} role="img" aria-label={label} shapeRendering="crispEdges">
      <rect x={-quiet} y={-quiet} width={side} height={side} fill="#fff" />
      <path d={drawn.path} fill="#000" />
    </svg>
  );
}

/** Set up an authenticator app: the key, a first code, then the recovery codes once. */
export function EnrollSecondFactor() {
  const { t } = useI18n();
  const { enrollVoluntary } = useSession();
  const [secret, setSecret] = useState<{ secret: string; otpauth_uri: string } | null>(null);
  const [code, setCode] = useState("");
  const [codes, setCodes] = useState<string[] | null>(null);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    session.startEnrollment().then(
      (s) => live && setSecret(s),
      (e) => live && setError(codeErrorKey(e)),
    );
    return () => {
      live = false;
    };
  }, []);

  async function confirm(e: FormEvent) {
    e.preventDefault();
    if (!isTotpCode(code)) return setError("twofa.invalid");
    setBusy(true);
    setError(null);
    try {
      setCodes(await session.confirmEnrollment(codeToSend(code) ?? code));
      setSecret(null);
    } catch (err) {
      setError(codeErrorKey(err));
      setCode("");
    }
    setBusy(false);
  }

  async function withPasskey() {
    setBusy(true);
    setError(null);
    try {
      await session.enrollPasskey(t("passkey.defaultName"));
    } catch (err) {
      setError(passkeyErrorKey(err));
      setBusy(false);
    }
  }

  async function done() {
    setBusy(true);
    try {
      await session.finishEnrollment();
    } catch (err) {
      setError(codeErrorKey(err));
      setBusy(false);
    }
  }

  const leave = enrollVoluntary ? (
    <button className="secondary" type="button" onClick={() => void done()}>
      {t("common.cancel")}
    </button>
  ) : (
    <button className="secondary" type="button" onClick={() => void session.signOut()}>
      {t("lock.signOut")}
    </button>
  );

  if (codes) {
    return (
      <AuthLayout title={t("twofa.codesTitle")} icon={<LockIcon />}>
        <p className="intro">{t("twofa.codesIntro")}</p>
        <ol className="recovery-codes" aria-label={t("twofa.codesTitle")}>
          {codes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ol>
        <div className="form">
          <label className="saved-check">
            <input type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
            <span>{t("twofa.codesSaved")}</span>
          </label>
          <FormError message={error && t(error)} />
          <button className="primary" type="button" disabled={!saved || busy} onClick={() => void done()}>
            {t("twofa.continue")}
          </button>
        </div>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title={t("twofa.enrollTitle")} icon={<LockIcon />}>
      <p className="intro">{t(enrollVoluntary ? "twofa.enrollIntroVoluntary" : "twofa.enrollIntro")}</p>
      {secret ? (
        <div className="enroll-key">
          <p>{t("twofa.step1")}</p>
          <QrCode uri={secret.otpauth_uri} label={t("twofa.qrLabel")} />
          <code className="secret" aria-label={t("twofa.keyLabel")}>
            {groupSecret(secret.secret)}
          </code>
          <p>
            <a href={secret.otpauth_uri}>{t("twofa.openApp")}</a>
          </p>
          <label className="field">
            <span>{t("twofa.uriLabel")}</span>
            <input readOnly value={secret.otpauth_uri} onFocus={(e) => e.target.select()} />
          </label>
        </div>
      ) : (
        !error && <p role="status">{t("common.loading")}</p>
      )}
      <form onSubmit={confirm} className="form" noValidate>
        <label className="field">
          <span>{t("twofa.step2")}</span>
          <input
            name="code"
            autoComplete="one-time-code"
            inputMode="numeric"
            maxLength={8}
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        </label>
        <FormError message={error && t(error)} />
        <button className="primary" type="submit" disabled={busy || !secret || !code.trim()}>
          {t("twofa.confirm")}
        </button>
        {passkeysSupported() && (
          <>
            <p className="divider">
              <span>{t("passkey.or")}</span>
            </p>
            <p className="intro">{t("passkey.enrollHint")}</p>
            <button className="secondary" type="button" disabled={busy} onClick={() => void withPasskey()}>
              {t("passkey.enrollInstead")}
            </button>
          </>
        )}
        {leave}
      </form>
    </AuthLayout>
  );
}

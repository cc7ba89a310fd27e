import type { ReactNode } from "react";
import { useI18n } from "../i18n/i18n";
import { LanguageSwitch } from "./LanguageSwitch";

export function AuthLayout({ title, children, icon }: { title: string; children: ReactNode; icon?: ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="auth">
      <div className="auth-top">
        <LanguageSwitch />
      </div>
      <main className="auth-card" aria-labelledby="auth-title">
        <div className="auth-brand">
          <div className="brand-mark" aria-hidden="true">{icon ?? "連"}</div>
          <div>
            <div className="brand-name">{t("app.name")}</div>
            <div className="brand-tagline">{t("app.tagline")}</div>
          </div>
        </div>
        <h1 id="auth-title">{title}</h1>
        {children}
      </main>
    </div>
  );
}

export function FormError({ message }: { message: string | null }) {
  return (
    <p className="form-error" role="alert" aria-live="assertive">
      {message ?? ""}
    </p>
  );
}

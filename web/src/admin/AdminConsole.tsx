// The admin console: one screen over the app with a tab per job. Closes itself when the
// session locks or ends, so nothing stays on screen behind the lock.

import { useEffect, useState } from "react";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { Icon } from "../screens/common";
import { UsersPage } from "./UsersPage";
import { ApplicationsPage } from "./ApplicationsPage";
import { CsvPage } from "./CsvPage";
import { PolicyPage } from "./PolicyPage";
import { SeatsPage } from "./SeatsPage";
import { AuditPage } from "./AuditPage";
import { StatsPage } from "./StatsPage";
import { DepartmentsPage } from "./DepartmentsPage";
import { DicomPage } from "./DicomPage";
import { ScimPage } from "./ScimPage";
import { SsoPage } from "./SsoPage";
import { ScreenBoundary } from "../screens/ScreenBoundary";
import "./admin.css";

const TABS = ["users", "applications", "csv", "policy", "seats", "audit", "stats", "departments", "dicom", "sso", "scim"] as const;
type Tab = (typeof TABS)[number];

export default function AdminConsole({ onClose }: { onClose: () => void }) {
  const state = useSession();
  const { t } = useI18n();
  const [tab, setTab] = useState<Tab>("users");

  useEffect(() => {
    if (state.phase !== "ready") onClose();
  }, [state.phase, onClose]);
  useEffect(() => {
    const esc = (e: KeyboardEvent) => e.key === "Escape" && !(e.target instanceof HTMLInputElement) && onClose();
    window.addEventListener("keydown", esc);
    return () => window.removeEventListener("keydown", esc);
  }, [onClose]);

  const me = state.me;
  if (!me || state.phase !== "ready") return null;
  const org = me.organization;
  return (
    <div className="admin" role="dialog" aria-modal="true" aria-labelledby="admin-title">
      <header className="admin-top">
        <button className="icon-button" type="button" aria-label={t("common.close")} onClick={onClose}>
          <Icon name="back" />
        </button>
        <div className="admin-titles">
          <h1 id="admin-title">{t("admin.title")}</h1>
          <span>{org.name}</span>
        </div>
      </header>
      <nav className="admin-tabs" aria-label={t("admin.title")}>
        {TABS.map((name) => (
          <button
            key={name}
            type="button"
            className={tab === name ? "active" : undefined}
            aria-current={tab === name ? "page" : undefined}
            onClick={() => setTab(name)}
          >
            {t(`admin.tab.${name}` as MessageKey)}
          </button>
        ))}
      </nav>
      <main className="admin-main">
        <ScreenBoundary key={tab} name={`admin.${tab}`} onBack={onClose}>
          {tab === "users" && <UsersPage orgId={org.id} me={me.user} />}
          {tab === "applications" && <ApplicationsPage orgId={org.id} />}
          {tab === "csv" && <CsvPage orgId={org.id} />}
          {tab === "policy" && <PolicyPage orgId={org.id} />}
          {tab === "seats" && <SeatsPage orgId={org.id} />}
          {tab === "audit" && <AuditPage />}
          {tab === "stats" && <StatsPage orgId={org.id} />}
          {tab === "departments" && <DepartmentsPage orgId={org.id} />}
          {tab === "dicom" && <DicomPage orgId={org.id} />}
          {tab === "sso" && <SsoPage orgId={org.id} />}
          {tab === "scim" && <ScimPage orgId={org.id} />}
        </ScreenBoundary>
      </main>
    </div>
  );
}

// The small, eagerly loaded doors to administration: the menu entry for organization
// administrators (the console itself is a lazy chunk, mounted over the app) and the public
// sign-up page reached by an invite link.

import { lazy, Suspense } from "react";
import { createRoot, type Root } from "react-dom/client";
import { I18nProvider, useI18n } from "../i18n/i18n";
import { useSession } from "../hooks";
import { Icon } from "../screens/common";
import { ScreenBoundary } from "../screens/ScreenBoundary";

const AdminConsole = lazy(() => import("./AdminConsole"));
const SignUpPage = lazy(() => import("./SignUpPage"));

let mounted: { root: Root; host: HTMLElement } | null = null;

function closeConsole() {
  mounted?.root.unmount();
  mounted?.host.remove();
  mounted = null;
}

export function openConsole() {
  if (mounted) return;
  const host = document.createElement("div");
  host.className = "admin-host";
  document.body.appendChild(host);
  // Whatever escapes the boundaries, the full-screen host never stays behind the app.
  const root = createRoot(host, { onUncaughtError: () => closeConsole() });
  mounted = { root, host };
  root.render(
    <I18nProvider>
      <ScreenBoundary name="admin" onBack={closeConsole}>
        <Suspense fallback={<div className="admin-loading" role="status" />}>
          <AdminConsole onClose={closeConsole} />
        </Suspense>
      </ScreenBoundary>
    </I18nProvider>,
  );
}

/** Whether a user administers an organization. */
export function isAdmin(roles: readonly string[]): boolean {
  return roles.includes("org_admin") || roles.includes("server_admin");
}

/** The menu entry that opens the admin console (organization administrators only). */
export function AdminMenuItem() {
  const { me } = useSession();
  const { t } = useI18n();
  if (!me || !isAdmin(me.user.roles)) return null;
  return (
    <button role="menuitem" type="button" onClick={openConsole}>
      <Icon name="check" /> {t("admin.menu")}
    </button>
  );
}

const SIGNUP = /^\/signup\/([A-Za-z0-9_-]{1,100})$/;

/** Whether this page was opened through an invite link. */
export function isSignUpPath(): boolean {
  return SIGNUP.test(location.pathname);
}

/** The sign-up page of the invite link in the address bar. */
export function SignUpRoute() {
  const token = location.pathname.match(SIGNUP)?.[1] ?? "";
  return (
    <Suspense fallback={null}>
      <SignUpPage token={token} />
    </Suspense>
  );
}

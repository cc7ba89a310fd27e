import { useEffect } from "react";
import { session } from "./session";
import { useSession } from "./hooks";
import { useI18n } from "./i18n/i18n";
import { Login } from "./screens/Login";
import { ChangePassword } from "./screens/ChangePassword";
import { SetPasscode } from "./screens/SetPasscode";
import { EnrollSecondFactor, VerifySecondFactor } from "./screens/SecondFactor";
import { LockScreen } from "./screens/LockScreen";
import { Home } from "./screens/Home";
import { isSignUpPath, SignUpRoute } from "./admin/entry";
import { ScreenBoundary } from "./screens/ScreenBoundary";

export function App() {
  const state = useSession();
  const { t } = useI18n();

  useEffect(() => {
    void session.start();
    const activity = () => session.activity();
    const events = ["pointerdown", "keydown", "touchstart", "wheel"] as const;
    events.forEach((e) => window.addEventListener(e, activity, { passive: true }));
    const online = () => session.setOnline(true);
    const offline = () => session.setOnline(false);
    const visible = () => {
      if (document.visibilityState === "visible") {
        session.readMarker.markIfVisible();
        session.reconnectNow();
      }
    };
    // A page that closes (not one kept for going back) hangs up: the server would otherwise
    // hold its place for a reconnect.
    const closing = (e: PageTransitionEvent) => {
      if (!e.persisted) session.calls.pageClosing();
    };
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    window.addEventListener("pagehide", closing);
    document.addEventListener("visibilitychange", visible);
    return () => {
      events.forEach((e) => window.removeEventListener(e, activity));
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      window.removeEventListener("pagehide", closing);
      document.removeEventListener("visibilitychange", visible);
    };
  }, []);

  return (
    <ScreenBoundary key={state.phase} name={state.phase}>
      {screen(state.phase, t)}
    </ScreenBoundary>
  );
}

/** The top-level screen of a session phase. */
function screen(phase: ReturnType<typeof useSession>["phase"], t: ReturnType<typeof useI18n>["t"]) {
  switch (phase) {
    case "starting":
      return (
        <div className="splash" role="status" aria-live="polite">
          <div className="brand-mark" aria-hidden="true">連</div>
          <span className="visually-hidden">{t("common.loading")}</span>
        </div>
      );
    case "signedOut":
      return isSignUpPath() ? <SignUpRoute /> : <Login />;
    case "secondFactor":
      return <VerifySecondFactor />;
    case "enrollSecondFactor":
      return <EnrollSecondFactor />;
    case "changePassword":
      return <ChangePassword />;
    case "setPasscode":
      return <SetPasscode />;
    case "locked":
      return <LockScreen />;
    case "ready":
      return <Home />;
  }
}

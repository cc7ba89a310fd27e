// An error boundary per screen: a screen that fails to render shows a short notice with a way
// back (and a reload) instead of leaving a blank or frozen app behind.

import { Component, type ErrorInfo, type ReactNode } from "react";
import { useI18n } from "../i18n/i18n";

interface Props {
  children: ReactNode;
  /** Leave the failed screen (close the overlay, go back); without it only reload is offered. */
  onBack?: () => void;
  /** Which screen failed, for the console log. */
  name?: string;
  /** The screen covers the app (viewer, full-screen pages): so does its notice. */
  overlay?: boolean;
}

interface State {
  failed: boolean;
}

/** Catches a render error below it; `key` it by what it shows so a new screen starts clean. */
export class ScreenBoundary extends Component<Props, State> {
  state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  componentDidCatch(error: unknown, info: ErrorInfo) {
    // No patient data in the message: React's own error text and the component stack.
    console.error("screen failed", this.props.name ?? "", error, info.componentStack);
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return <ScreenFailed overlay={this.props.overlay} onBack={this.props.onBack} onRetry={() => this.setState({ failed: false })} />;
  }
}

/** What a failed screen shows: what happened, and the ways out. */
export function ScreenFailed({ onBack, onRetry, overlay }: { onBack?: () => void; onRetry?: () => void; overlay?: boolean }) {
  const { t } = useI18n();
  return (
    <div className={overlay ? "screen-failed overlay" : "screen-failed"} role="alert">
      <h2>{t("boundary.title")}</h2>
      <p>{t("boundary.intro")}</p>
      <div className="screen-failed-actions">
        {onBack && (
          <button type="button" className="primary" onClick={onBack}>
            {t("boundary.back")}
          </button>
        )}
        {onRetry && (
          <button type="button" className="secondary" onClick={onRetry}>
            {t("common.retry")}
          </button>
        )}
        <button type="button" className="secondary" onClick={() => location.reload()}>
          {t("boundary.reload")}
        </button>
      </div>
    </div>
  );
}

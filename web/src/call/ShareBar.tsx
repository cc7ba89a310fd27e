//! "Share in call" in the study viewer and the photo view: start sharing, the leader's line
//! (stop), or the follower's (whom they follow, take over).

import { useEffect, useRef } from "react";
import { session } from "../session";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import type { ViewState, ViewTarget } from "../state/sharedView";
import { CallIcon } from "./icons";
import { useSharedView } from "./useSharedView";
import "./call.css";

export function ShareBar({ target, current }: { target: ViewTarget; current: () => ViewState }) {
  const { t } = useI18n();
  const state = useSession();
  const { role, view } = useSharedView(target);
  // Closing the image one leads stops the share.
  const leading = useRef(false);
  leading.current = role === "leader";
  useEffect(() => () => void (leading.current && session.calls.stopSharing()), []);
  if (role === "none") return null;
  if (role === "idle") {
    return (
      <div className="share-bar">
        <span />
        <button type="button" className="share-start" onClick={() => session.calls.share(target, current())}>
          <CallIcon name="share" size={16} /> {t("call.share")}
        </button>
      </div>
    );
  }
  if (role === "leader") {
    return (
      <div className="share-bar" role="status">
        <span>{t("call.sharing")}</span>
        <button type="button" className="quiet" onClick={() => session.calls.stopSharing()}>
          {t("call.shareStop")}
        </button>
      </div>
    );
  }
  const leader = view ? (state.users[view.leader]?.display_name ?? t("chat.unknownUser")) : "";
  return (
    <div className="share-bar" role="status">
      <span>{t("call.following", { name: leader })}</span>
      <button type="button" onClick={() => session.calls.share(target, current())}>
        {t("call.takeOver")}
      </button>
    </div>
  );
}

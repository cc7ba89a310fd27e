//! A conversation header's call buttons (voice, video), or "join" while a group call runs there.

import { session } from "../session";
import { useI18n } from "../i18n/i18n";
import type { Uuid } from "../types";
import { CallIcon } from "./icons";
import { useCalls } from "./useCalls";
import "./call.css";

export function CallButtons({ conversation }: { conversation: Uuid }) {
  const { t } = useI18n();
  const calls = useCalls();
  const running = calls.joinable[conversation];
  const busy = !!calls.shown && calls.shown.state !== "ended";
  if (running && !busy) {
    return (
      <button type="button" className="call-join" onClick={() => session.calls.accept(running.media, running)}>
        <CallIcon name={running.media === "video" ? "video" : "phone"} size={18} />
        <span>{t("call.join")}</span>
        <span className="visually-hidden">{t("call.running", { n: running.participants.length })}</span>
      </button>
    );
  }
  return (
    <>
      <button type="button" className="icon-button" aria-label={t("call.voice")} title={t("call.voice")} disabled={busy} onClick={() => session.calls.start(conversation, "audio")}>
        <CallIcon name="phone" size={22} />
      </button>
      <button type="button" className="icon-button" aria-label={t("call.video")} title={t("call.video")} disabled={busy} onClick={() => session.calls.start(conversation, "video")}>
        <CallIcon name="video" size={22} />
      </button>
    </>
  );
}

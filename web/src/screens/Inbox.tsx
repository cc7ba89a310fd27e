//! The organization's image inbox: received studies, newest first, each to open in the viewer
//! or share into a conversation.

import { useCallback, useEffect, useMemo, useState } from "react";
import { api } from "../api";
import { useI18n } from "../i18n/i18n";
import { coalesce, onInboxChanged } from "../state/inboxLive";
import { nav } from "../state/nav";
import { normalize } from "../state/people";
import type { Study } from "../types";
import { Confirm } from "../admin/Confirm";
import { Icon } from "./common";
import { ShareStudy } from "./ShareStudy";
import { StudyRow } from "./StudyCard";

const PAGE = 50;
/** The inbox also lists again this often, in case the socket missed a hint. */
const FALLBACK_POLL_MS = 120_000;

export function Inbox({ onShared }: { onShared: (conversation: string) => void }) {
  const { t, shortTime } = useI18n();
  const [studies, setStudies] = useState<Study[] | null>(null);
  const [more, setMore] = useState(false);
  const [failed, setFailed] = useState(false);
  const [filter, setFilter] = useState("");
  const [sharing, setSharing] = useState<Study | null>(null);
  const [confirming, setConfirming] = useState<Study | null>(null);

  const load = useCallback(async (offset: number) => {
    try {
      const page = await api.inbox(offset, PAGE);
      setStudies((s) => (offset === 0 ? page : [...(s ?? []), ...page]));
      setMore(page.length === PAGE);
      setFailed(false);
    } catch {
      setFailed(true);
    }
  }, []);

  useEffect(() => {
    void load(0);
    // New studies arrive over the socket (`inbox_changed`); a burst (a CT's instances) is one
    // refresh. A slow poll covers hints missed while the socket was down.
    const refresh = coalesce(() => void load(0), 400, 3000);
    const stop = onInboxChanged(() => refresh());
    const timer = setInterval(() => void load(0), FALLBACK_POLL_MS);
    return () => {
      stop();
      refresh.cancel();
      clearInterval(timer);
    };
  }, [load]);

  /** Releases a held study (the server records who confirmed it), then lists again. */
  const confirmClean = async (study: Study) => {
    setConfirming(null);
    try {
      await api.confirmClean(study.id);
      await load(0);
    } catch {
      setFailed(true);
    }
  };

  const rows = useMemo(() => {
    const q = normalize(filter);
    const live = (studies ?? []).filter((s) => !s.expired);
    if (!q) return live;
    return live.filter((s) => normalize([s.modalities.join(" "), s.body_part, s.description, s.patient_tail].filter(Boolean).join(" ")).includes(q));
  }, [studies, filter]);

  return (
    <div className="inbox">
      <div className="search">
        <Icon name="search" />
        <input type="search" aria-label={t("inbox.filter")} placeholder={t("inbox.filter")} value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      {failed && (
        <p className="timeline-note error" role="alert">
          {t("common.error")}{" "}
          <button type="button" className="link" onClick={() => void load(0)}>
            {t("common.retry")}
          </button>
        </p>
      )}
      {!studies && !failed && <p className="timeline-note">{t("common.loading")}</p>}
      {studies && studies.length === 0 && (
        <div className="list-empty">
          <p>{t("inbox.empty")}</p>
          <p className="hint">{t("inbox.emptyHint")}</p>
        </div>
      )}
      {studies && studies.length > 0 && rows.length === 0 && (
        <div className="list-empty">
          <p>{t("inbox.noMatch")}</p>
        </div>
      )}
      <ul className="study-list" aria-label={t("inbox.title")}>
        {rows.map((s) => (
          <li key={s.id}>
            {confirming?.id === s.id && (
              <>
                <p className="held-hint">{t("study.heldHint")}</p>
                <Confirm
                  question={t("inbox.confirmCleanQuestion")}
                  onYes={() => void confirmClean(s)}
                  onNo={() => setConfirming(null)}
                />
              </>
            )}
            <StudyRow
              study={s}
              thumbnail
              actions={
                <>
                  <span className="study-received">{t("inbox.received", { time: shortTime(s.created_at) })}</span>
                  {s.held_instances > 0 ? (
                    <button type="button" className="secondary small" onClick={() => setConfirming(s)}>
                      <Icon name="check" /> {t("inbox.confirmClean")}
                    </button>
                  ) : (
                    <button type="button" className="secondary small" onClick={() => setSharing(s)}>
                      <Icon name="send" /> {t("inbox.share")}
                    </button>
                  )}
                  <button type="button" className="primary small" onClick={() => nav.open({ kind: "study", id: s.id })}>
                    {t("inbox.open")}
                  </button>
                </>
              }
            />
          </li>
        ))}
        {more && (
          <li className="list-more">
            <button type="button" className="secondary" onClick={() => void load(studies?.length ?? 0)}>
              {t("inbox.more")}
            </button>
          </li>
        )}
      </ul>
      {sharing && (
        <ShareStudy
          study={sharing}
          onClose={() => setSharing(null)}
          onShared={(id) => {
            setSharing(null);
            onShared(id);
          }}
        />
      )}
    </div>
  );
}

//! A study as a card: modality, body part, description, date, series and image counts, the
//! patient-ID tail and the burned-in text flag. In chat the whole card opens the viewer.

import { useEffect, useState, type ReactNode } from "react";
import { studyUrls } from "../api";
import { preloadViewer } from "../state/nav";
import { useI18n } from "../i18n/i18n";
import { imageCount, modalityLabel, studyDateLabel } from "../state/study";
import type { Study } from "../types";
import { Icon } from "./common";

type T = ReturnType<typeof useI18n>["t"];

/** "1 image" / "12 images". */
export function imagesLabel(t: T, n: number): string {
  return n === 1 ? t("study.oneImage") : t("study.imagesCount", { n });
}

/** "2 series, 301 images", or "1 series, 16 frames" for a cine. */
export function countsLabel(t: T, series: number, count: number | ReturnType<typeof imageCount>): string {
  const c = typeof count === "number" ? { unit: "images" as const, n: count } : count;
  const images = c.unit === "frames" ? t("study.framesCount", { n: c.n }) : imagesLabel(t, c.n);
  return t("study.counts", { series: t("study.series", { n: series }), images });
}

export function StudySummary({ study }: { study: Study }) {
  const { t, lang } = useI18n();
  const title = study.description || study.body_part || t("study.untitled");
  const date = studyDateLabel(study.study_date, lang) ?? t("study.noDate");
  return (
    <span className="study-summary">
      <span className="modality-badge" aria-hidden="true">
        {modalityLabel(study)}
      </span>
      <span className="study-text">
        <strong className="study-title">{title}</strong>
        <span className="study-line">{[study.body_part && study.body_part !== title ? study.body_part : null, date].filter(Boolean).join(" · ")}</span>
        <span className="study-line">
          {countsLabel(t, study.series_count, imageCount(study))}
          <span className="patient-tail">{t("study.patientTail", { tail: study.patient_tail })}</span>
        </span>
        {study.held_instances > 0 ? (
          <span className="held-tag" role="note">
            <Icon name="alert" /> {t("study.held")}
          </span>
        ) : study.burned_in_risk && (
          <span className="burned-in-tag" title={t("study.burnedInHint")}>
            <Icon name="alert" /> {t("study.burnedIn")}
          </span>
        )}
      </span>
    </span>
  );
}

/** The card of a shared study inside a message. */
export function StudyCardButton(props: { study: Study | null; expired?: boolean; unavailable?: boolean; onOpen: () => void }) {
  const { t } = useI18n();
  const { study } = props;
  useEffect(() => {
    if (study) preloadViewer();
  }, [study]);
  if (props.expired || props.unavailable || !study) {
    return (
      <div className={`study-card muted ${props.expired ? "expired" : ""}`} role="note">
        <Icon name="study" />
        <span>{props.expired ? t("study.expired") : props.unavailable ? t("study.unavailable") : t("common.loading")}</span>
      </div>
    );
  }
  const label = `${t("study.open")}: ${modalityLabel(study)} ${study.description ?? study.body_part ?? ""}`.trim();
  return (
    <button type="button" className="study-card" onClick={props.onOpen} aria-label={label}>
      <StudySummary study={study} />
      <span className="study-open">
        <Icon name="study" /> {t("study.open")}
      </span>
    </button>
  );
}

export function StudyRow({ study, actions, thumbnail }: { study: Study; actions: ReactNode; thumbnail?: boolean }) {
  useEffect(preloadViewer, []);
  return (
    <article className="study-row">
      {thumbnail ? (
        <div className="study-with-thumb">
          <StudyThumbnail study={study} />
          <StudySummary study={study} />
        </div>
      ) : (
        <StudySummary study={study} />
      )}
      <div className="study-actions">{actions}</div>
    </article>
  );
}

/** The study's key frame, drawn by the server; the modality icon where there is none (an ECG). */
export function StudyThumbnail({ study }: { study: Study }) {
  const { t } = useI18n();
  const [failed, setFailed] = useState(false);
  return (
    <span className="study-thumb">
      {failed ? (
        <Icon name="study" />
      ) : (
        // Keyed by the instance and held counts: a study that grows gets its new key frame, and a
        // held one shows its detected text outlined until it is released.
        <img
          src={`${studyUrls.thumbnail(study.id)}?n=${study.instance_count}&h=${study.held_instances}`}
          alt={t("inbox.thumbnail")}
          width={72}
          height={72}
          loading="lazy"
          decoding="async"
          onError={() => setFailed(true)}
        />
      )}
    </span>
  );
}

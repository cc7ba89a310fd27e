//! Choosing what to compare the series on screen with: another series of this study, or a
//! prior study of the same patient tail (from the inbox or shared in a loaded conversation).

import { useEffect, useState } from "react";
import { api } from "../../api";
import { useI18n } from "../../i18n/i18n";
import { Sheet } from "../../screens/Sheet";
import { session } from "../../session";
import { studyCard } from "../../state/cards";
import { priorCandidates, sharedStudyIds } from "../../state/compare";
import { modalityLabel, studyDateLabel } from "../../state/study";
import type { Series, Study, StudyDetail } from "../../types";
import "./compare.css";

export type CompareChoice = { kind: "series"; series: Series } | { kind: "study"; study: Study };

/** Studies this user can see that may be the same patient's: the inbox, and studies shared in loaded chats. */
async function knownStudies(): Promise<Study[]> {
  const shared = await Promise.all(sharedStudyIds(session.state.chats).map((id) => studyCard(id)));
  const inbox = await api.inbox(0, 200).catch(() => [] as Study[]);
  return [...inbox, ...shared.flatMap((c) => (c.state === "ok" ? [c.value] : []))];
}

export function ComparePicker({ study, current, onPick, onClose }: { study: StudyDetail; current: Series; onPick: (c: CompareChoice) => void; onClose: () => void }) {
  const { t, lang } = useI18n();
  const [priors, setPriors] = useState<Study[] | null>(null);
  useEffect(() => {
    let live = true;
    knownStudies().then(
      (known) => live && setPriors(priorCandidates(study, known)),
      () => live && setPriors([]),
    );
    return () => {
      live = false;
    };
  }, [study]);
  const others = study.series.filter((s) => s.series_uid !== current.series_uid);
  const seriesLabel = (s: Series) => [[s.modality, s.series_number !== null ? `#${s.series_number}` : null].filter(Boolean).join(" "), s.description].filter(Boolean).join(" · ");
  return (
    <Sheet titleId="compare-title" title={t("compare.title")} onClose={onClose}>
      <ul className="compare-pick">
        {others.length > 0 && (
          <li>
            <h3>{t("compare.sameStudy")}</h3>
          </li>
        )}
        {others.map((s) => (
          <li key={s.series_uid}>
            <button type="button" onClick={() => onPick({ kind: "series", series: s })}>
              <span>{seriesLabel(s)}</span>
              <small>{t("study.imagesCount", { n: s.instance_count })}</small>
            </button>
          </li>
        ))}
        {priors && priors.length > 0 && (
          <li>
            <h3>{t("compare.prior")}</h3>
          </li>
        )}
        {priors?.map((s) => (
          <li key={s.id}>
            <button type="button" onClick={() => onPick({ kind: "study", study: s })}>
              <span>{[studyDateLabel(s.study_date, lang), modalityLabel(s), s.body_part].filter(Boolean).join(" · ")}</span>
              <small>{[t("study.patientTail", { tail: s.patient_tail }), s.description].filter(Boolean).join(" · ")}</small>
            </button>
          </li>
        ))}
        {priors === null && <li role="status">{t("common.loading")}</li>}
        {priors !== null && priors.length === 0 && others.length === 0 && <li>{t("compare.none")}</li>}
      </ul>
    </Sheet>
  );
}

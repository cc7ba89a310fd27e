//! Two series side by side (stacked on a phone): the one on screen and another of this study or
//! of a prior study of the same patient tail; with the link on, scrolling, window/level and zoom
//! of the pane the user moves are followed by the other (`state/compare`).

import { useRef, useState } from "react";
import { useI18n } from "../../i18n/i18n";
import type { Series, StudyDetail } from "../../types";
import { ImageStack } from "../ImageStack";
import type { StackItem } from "../stack";
import { ViewerIcon } from "../icons";
import { linkedView, sameView } from "../../state/compare";
import type { ViewState } from "../../state/sharedView";
import { studyDateLabel } from "../../state/study";
import "./compare.css";

export interface Pane {
  study: StudyDetail;
  series: Series;
  items: StackItem[];
}

export function CompareView({ panes, onClose }: { panes: [Pane, Pane]; onClose: () => void }) {
  const { t, lang } = useI18n();
  const [linked, setLinked] = useState(true);
  const linkedRef = useRef(linked);
  linkedRef.current = linked;
  const active = useRef(0);
  const counts = useRef([panes[0].items.length, panes[1].items.length]);
  counts.current = [panes[0].items.length, panes[1].items.length];
  const sent = useRef<(ViewState | null)[]>([null, null]);
  const [follow, setFollow] = useState<(ViewState | null)[]>([null, null]);

  const onView = (pane: number) => (view: ViewState, count: number) => {
    if (!linkedRef.current || pane !== active.current) return;
    const other = 1 - pane;
    const next = linkedView(view, count, counts.current[other]);
    if (sameView(sent.current[other], next)) return;
    sent.current[other] = next;
    setFollow((f) => (other === 0 ? [next, f[1]] : [f[0], next]));
  };

  const label = (p: Pane) =>
    [studyDateLabel(p.study.study_date, lang), [p.series.modality, p.series.series_number !== null ? `#${p.series.series_number}` : null].filter(Boolean).join(" "), p.series.description]
      .filter(Boolean)
      .join(" · ");

  return (
    <div className="compare">
      <div className="compare-bar" role="toolbar" aria-label={t("compare.title")}>
        <button type="button" className={`tool ${linked ? "on" : ""}`} aria-pressed={linked} onClick={() => setLinked(!linked)} title={t("compare.linked")}>
          <ViewerIcon name="link" />
          <span>{t("compare.link")}</span>
        </button>
        <span className="compare-hint">{linked ? t("compare.linked") : ""}</span>
        <button type="button" className="tool" onClick={onClose} aria-label={t("compare.close")} title={t("compare.close")}>
          <span>{t("compare.close")}</span>
        </button>
      </div>
      <div className="compare-panes">
        {panes.map((p, i) => (
          <section className="compare-pane" key={`${i}-${p.study.id}-${p.series.series_uid}`} aria-label={label(p)} data-pane={i}>
            <div className="compare-label">{label(p)}</div>
            <ImageStack
              study={p.study}
              series={p.series}
              items={p.items}
              compact
              follow={linked ? follow[i] : null}
              onView={onView(i)}
              onActive={() => (active.current = i)}
            />
          </section>
        ))}
      </div>
    </div>
  );
}

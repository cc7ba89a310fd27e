//! The study viewer (loaded lazily): the study's header with the patient-ID tail and the
//! burned-in text flag, the series strip with thumbnails (presentation states are not series to
//! show: their annotations are drawn on the frames they reference), and the series on screen —
//! an image stack, or a 12-lead ECG for waveform objects; opened at a key image's frame.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, studyUrls } from "../api";
import { useI18n } from "../i18n/i18n";
import type { Instance, Series, StudyDetail, Uuid } from "../types";
import { EcgView } from "./EcgView";
import { ImageStack } from "./ImageStack";
import { ViewerIcon } from "./icons";
import { isWaveform, stackOf, startIndex } from "./stack";
import { Icon } from "../screens/common";
import { useFullScreen } from "../hooks";
import { takeOpening } from "../state/nav";
import { mainSeries, seriesOrder, startOpening } from "./opening";
import type { LoadedFrame } from "./frames";
import { imageCount, imageModalities, studyDateLabel } from "../state/study";
import { countsLabel, imagesLabel } from "../screens/StudyCard";
import { ShareBar } from "../call/ShareBar";
import { useSharedView } from "../call/useSharedView";
import type { ViewState } from "../state/sharedView";
import { byFrame, frameKey, type FrameAnnotations } from "../state/annotations";
import type { Annotating } from "./annotate/AnnotateBar";
import { ShareStudy } from "../screens/ShareStudy";
import { CompareView, type Pane } from "./compare/CompareView";
import { ComparePicker, type CompareChoice } from "./compare/ComparePicker";

/** A key image to share: the frame and the presentation state with its annotations. */
interface KeyImageDraft {
  sop_uid: string;
  frame: number;
  presentation_uid?: string;
}

export default function StudyViewer({ id, onClose, at, onShared }: { id: Uuid; onClose: () => void; at?: { sop: string; frame: number }; onShared?: (conversation: Uuid) => void }) {
  const { t, lang } = useI18n();
  const [study, setStudy] = useState<StudyDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState(0);
  const [instances, setInstances] = useState<Record<string, Instance[]>>({});
  // Thumbnails wait for the first image: nothing competes with what the user waits for.
  const [shown, setShown] = useState(false);
  const [seed, setSeed] = useState<{ index: number; frame: Promise<LoadedFrame> } | null>(null);
  const onFirstImage = useCallback(() => setShown(true), []);
  const root = useRef<HTMLDivElement>(null);
  const [annotations, setAnnotations] = useState<FrameAnnotations[]>([]);
  const [sharing, setSharing] = useState<KeyImageDraft | null>(null);
  const [picking, setPicking] = useState(false);
  const [other, setOther] = useState<Pane | null>(null);

  useEffect(() => {
    let live = true;
    api.annotations(id).then(
      (list) => live && setAnnotations(list),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [id]);

  const annotating = useMemo<Annotating>(() => {
    const presentations = new Map(annotations.map((a) => [frameKey(a.sop_uid, a.frame), a.presentation_uid]));
    return {
      saved: byFrame(annotations),
      presentationOf: (key) => presentations.get(key) ?? null,
      save: async (sop, frame, shapes) => {
        const saved = await api.saveAnnotations(id, sop, frame, shapes);
        setAnnotations((list) => [...list, saved]);
        return saved.presentation_uid;
      },
      send: (sop, frame, presentation) => setSharing({ sop_uid: sop, frame, ...(presentation ? { presentation_uid: presentation } : {}) }),
    };
  }, [annotations, id]);

  useEffect(() => {
    let live = true;
    const opening = takeOpening(id) ?? startOpening(id);
    opening.detail.then(
      async (s) => {
        if (!live) return;
        const series = s.series.filter((x) => x.modality !== "PR").sort(seriesOrder);
        // Open on the main stack (the series with the most images), not on a scout.
        const main = mainSeries(series);
        setStudy({ ...s, series });
        setSelected(main);
        // The series on screen first (its first image is what the user waits for), then the
        // rest for the thumbnails.
        const load = async (x: Series) => {
          const list = await api.instances(id, x.series_uid);
          if (live) setInstances((m) => ({ ...m, [x.series_uid]: list }));
        };
        const first = await opening.main.catch(() => null);
        if (first && live) {
          setSeed(first.frame ? { index: first.index, frame: first.frame } : null);
          setInstances((m) => ({ ...m, [first.seriesUid]: first.instances }));
        } else if (series[main]) await load(series[main]).catch(() => undefined);
        await new Promise((ok) => setTimeout(ok, 300));
        for (const x of series.filter((_, i) => i !== main)) await load(x).catch(() => undefined);
      },
      (e) => live && setError(e instanceof ApiError && e.status === 410 ? "viewer.expired" : e instanceof ApiError && e.status === 404 ? "viewer.notFound" : "common.error"),
    );
    return () => {
      live = false;
    };
  }, [id]);

  useFullScreen(root, onClose);

  // Shared view: a follower's viewer shows the leader's series.
  const shareRef = useRef<(() => ViewState) | null>(null);
  const shared = useSharedView({ kind: "study", id });
  const leaderSeries = shared.role === "follower" ? shared.view?.state.series_uid : undefined;
  useEffect(() => {
    if (!study || !leaderSeries) return;
    const i = study.series.findIndex((s) => s.series_uid === leaderSeries);
    if (i >= 0) setSelected(i);
  }, [study, leaderSeries]);

  // A key image: its series, once the instances say which it is.
  const found = useRef(false);
  useEffect(() => {
    if (!at || !study || found.current) return;
    const i = study.series.findIndex((s) => instances[s.series_uid]?.some((x) => x.sop_uid === at.sop));
    if (i >= 0) {
      found.current = true;
      setSelected(i);
    }
  }, [at, study, instances]);

  const series = study?.series[selected];
  const list = series ? instances[series.series_uid] : undefined;
  const items = useMemo(() => (list ? stackOf(list) : null), [list]);
  const waveform = items && items[0] && isWaveform(items[0].sopClass) ? items[0] : null;

  /** The chosen series (of this study, or the main one of a prior study) as the second pane. */
  const compareWith = async (choice: CompareChoice) => {
    setPicking(false);
    if (!study) return;
    if (choice.kind === "series") {
      const list = instances[choice.series.series_uid] ?? (await api.instances(id, choice.series.series_uid));
      setOther({ study, series: choice.series, items: stackOf(list) });
      return;
    }
    const prior = await api.study(choice.study.id);
    const shown = prior.series.filter((x) => x.modality !== "PR").sort(seriesOrder);
    const main = shown[mainSeries(shown)];
    if (!main) return;
    const list = await api.instances(prior.id, main.series_uid);
    setOther({ study: { ...prior, series: shown }, series: main, items: stackOf(list) });
  };

  const title = study ? [...new Set([imageModalities(study).join("/"), study.body_part, study.description].filter(Boolean))].join(" · ") : t("viewer.title");

  return (
    <div className="viewer" role="dialog" aria-modal="true" aria-labelledby="viewer-title" ref={root} tabIndex={-1}>
      <header className="viewer-bar">
        <button type="button" className="icon-button on-dark" aria-label={t("viewer.close")} title={t("viewer.close")} onClick={onClose}>
          <Icon name="back" />
        </button>
        <div className="viewer-titles">
          <h2 id="viewer-title">{title}</h2>
          {study && (
            <span>
              {[studyDateLabel(study.study_date, lang), t("study.patientTail", { tail: study.patient_tail }), countsLabel(t, study.series.length, imageCount(study))]
                .filter(Boolean)
                .join(" · ")}
            </span>
          )}
        </div>
        {study?.burned_in_risk && (
          <span className="burned-in" role="note" title={t("study.burnedInHint")}>
            <ViewerIcon name="warning" size={18} />
            <span>{t("study.burnedIn")}</span>
          </span>
        )}
        {study && series && items && items.length > 0 && !waveform && !other && (
          <button type="button" className="icon-button on-dark compare-open" aria-label={t("compare.open")} title={t("compare.open")} onClick={() => setPicking(true)}>
            <ViewerIcon name="compare" />
            <span>{t("compare.open")}</span>
          </button>
        )}
      </header>
      <ShareBar target={{ kind: "study", id }} current={() => shareRef.current?.() ?? {}} />
      <div className="viewer-body">
        {study && study.series.length > 0 && (
          <nav className="series-strip" aria-label={t("viewer.series")}>
            <ul>
              {study.series.map((s, i) => {
                const insts = instances[s.series_uid];
                const stack = insts ? stackOf(insts) : [];
                const thumb = stack.length ? stack[startIndex(stack)] : null;
                const ecg = thumb && isWaveform(thumb.sopClass);
                return (
                  <li key={s.series_uid}>
                    <button
                      type="button"
                      className={`series-thumb ${i === selected ? "on" : ""}`}
                      aria-current={i === selected}
                      onClick={() => setSelected(i)}
                    >
                      <span className="thumb-image">
                        {thumb && !ecg && (shown || waveform) && <img src={studyUrls.rendered(id, thumb.sop, thumb.frame, [96, 96], "jpeg")} alt="" loading="lazy" />}
                        {ecg && <ViewerIcon name="ecg" size={34} />}
                        {!thumb && <ViewerIcon name="series" size={28} />}
                      </span>
                      <span className="thumb-text">
                        <strong>{[s.modality, s.series_number !== null ? `#${s.series_number}` : null].filter(Boolean).join(" ")}</strong>
                        <span>{s.description ?? t("viewer.seriesUntitled")}</span>
                        <span>{stack.length > s.instance_count ? t("study.framesCount", { n: stack.length }) : imagesLabel(t, s.instance_count)}</span>
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
          </nav>
        )}
        <main className="viewer-main">
          {error && (
            <div className="viewport-status error" role="alert">
              {t(error as never)}
            </div>
          )}
          {!error && (!study || !items) && <div className="viewport-status" role="status">{t("common.loading")}</div>}
          {study && series && items && items.length === 0 && <div className="viewport-status">{t("viewer.emptySeries")}</div>}
          {study && series && waveform && <EcgView key={waveform.sop} study={id} sop={waveform.sop} />}
          {study && series && items && items.length > 0 && !waveform && other && <CompareView panes={[{ study, series, items }, other]} onClose={() => setOther(null)} />}
          {study && series && items && items.length > 0 && !waveform && !other && (
            <ImageStack
              key={series.series_uid}
              study={study}
              series={series}
              items={items}
              seed={seed}
              onFirstImage={onFirstImage}
              shareRef={shareRef}
              annotating={annotating}
              startAt={at}
              onRedacted={() => {
                // The redacted image replaced the original: list the series again.
                api.instances(id, series.series_uid).then((list) => setInstances((m) => ({ ...m, [series.series_uid]: list })), () => undefined);
              }}
            />
          )}
        </main>
      </div>
      {picking && study && series && <ComparePicker study={study} current={series} onPick={(c) => void compareWith(c).catch(() => undefined)} onClose={() => setPicking(false)} />}
      {sharing && study && (
        <ShareStudy
          study={study}
          keyImage={sharing}
          onClose={() => setSharing(null)}
          onShared={(conversation) => {
            setSharing(null);
            onShared?.(conversation);
          }}
        />
      )}
    </div>
  );
}

//! Opening a study: at the tap, the study, the instances of its main series and the frame to
//! show first are requested one after the other, while the viewer's chunk loads and mounts.

import { api } from "../api";
import type { Instance, Series, StudyDetail, Uuid } from "../types";
import { loadFrame, type LoadedFrame } from "./frames";
import { isWaveform, stackOf, startIndex } from "./stack";

export interface Opening {
  id: Uuid;
  detail: Promise<StudyDetail>;
  /** the main series' instances and its first frame, or null (no series, a waveform) */
  main: Promise<{ seriesUid: string; instances: Instance[]; index: number; frame: Promise<LoadedFrame> | null } | null>;
}

export function seriesOrder(a: Series, b: Series): number {
  return (a.series_number ?? 1e9) - (b.series_number ?? 1e9);
}

/** The series to open on: the one with the most images (the stack, not a scout). */
export function mainSeries(series: Series[]): number {
  return series.reduce((best, x, i) => (x.instance_count > series[best].instance_count ? i : best), 0);
}

export function startOpening(id: Uuid): Opening {
  const detail = api.study(id);
  const main = detail.then(async (study) => {
    const series = [...study.series].sort(seriesOrder);
    const chosen = series[mainSeries(series)];
    if (!chosen) return null;
    const instances = await api.instances(id, chosen.series_uid);
    const items = stackOf(instances);
    const index = startIndex(items);
    const item = items[index];
    const frame = item && !isWaveform(item.sopClass) ? loadFrame(id, item, new AbortController().signal) : null;
    frame?.catch(() => undefined);
    return { seriesUid: chosen.series_uid, instances, index, frame };
  });
  detail.catch(() => undefined);
  main.catch(() => undefined);
  return { id, detail, main };
}

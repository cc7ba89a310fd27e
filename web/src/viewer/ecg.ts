//! 12-lead ECG layout on standard paper: 25 mm/s, 10 mm/mV, the leads in 3 rows × 4 columns of
//! 2.5 s each, and lead II as a 10 s rhythm strip underneath. Everything here is in millimetres
//! of paper; the canvas multiplies by its pixels per millimetre.

import type { WaveformChannel, WaveformGroup } from "./wire";

export const MM_PER_S = 25;
export const MM_PER_MV = 10;
export const ROW_MM = 30;
/** Room at the left of each row for the 1 mV calibration pulse. */
export const LEFT_MM = 10;
export const COLUMN_S = 2.5;

export const LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"] as const;
export type Lead = (typeof LEADS)[number];

/** Rows of the 3 × 4 layout, column by column. */
export const GRID: Lead[][] = [
  ["I", "aVR", "V1", "V4"],
  ["II", "aVL", "V2", "V5"],
  ["III", "aVF", "V3", "V6"],
];
export const RHYTHM_LEAD: Lead = "II";

/** The standard lead a channel label names, if any (`Lead I (Einthoven)`, `avr`, `V1` …). */
export function standardLead(label: string): Lead | null {
  const clean = label
    .replace(/^lead\s+/i, "")
    .replace(/\s*\(.*\)\s*$/, "")
    .trim()
    .toLowerCase();
  return LEADS.find((l) => l.toLowerCase() === clean) ?? null;
}

/** The channels of the standard leads, by lead. */
export function leadChannels(group: WaveformGroup): Partial<Record<Lead, WaveformChannel>> {
  const map: Partial<Record<Lead, WaveformChannel>> = {};
  for (const c of group.channels) {
    const lead = standardLead(c.label) ?? (c.source ? standardLead(c.source) : null);
    if (lead && !map[lead]) map[lead] = c;
  }
  return map;
}

/** The group to draw: the one with the most standard leads, the longest on a tie. */
export function pickGroup(groups: WaveformGroup[]): WaveformGroup | null {
  let best: WaveformGroup | null = null;
  let bestScore = -1;
  for (const g of groups) {
    const score = Object.keys(leadChannels(g)).length * 1e9 + g.number_of_samples / Math.max(g.sampling_frequency_hz, 1);
    if (score > bestScore) {
      best = g;
      bestScore = score;
    }
  }
  return best;
}

export interface Cell {
  lead: Lead;
  /** left edge and baseline of the trace, in mm */
  x: number;
  baseline: number;
  /** the sample range [start, end) */
  start: number;
  end: number;
}

export interface Paper {
  width: number;
  height: number;
  cells: Cell[];
  seconds: number;
}

/** Where each lead's trace goes: three rows of four 2.5 s cells, then the rhythm strip. */
export function layout(group: WaveformGroup, present: (lead: Lead) => boolean): Paper {
  const fs = group.sampling_frequency_hz;
  const seconds = Math.min(group.number_of_samples / fs, 4 * COLUMN_S);
  const column = Math.min(COLUMN_S, seconds / 4);
  const cells: Cell[] = [];
  GRID.forEach((row, r) => {
    row.forEach((lead, c) => {
      if (!present(lead)) return;
      cells.push({
        lead,
        x: LEFT_MM + c * column * MM_PER_S,
        baseline: r * ROW_MM + ROW_MM / 2,
        start: Math.round(c * column * fs),
        end: Math.round((c + 1) * column * fs),
      });
    });
  });
  const rows = present(RHYTHM_LEAD) ? 4 : 3;
  if (present(RHYTHM_LEAD)) {
    cells.push({ lead: RHYTHM_LEAD, x: LEFT_MM, baseline: 3 * ROW_MM + ROW_MM / 2, start: 0, end: Math.round(seconds * fs) });
  }
  return { width: LEFT_MM + seconds * MM_PER_S + 5, height: rows * ROW_MM, cells, seconds };
}

/** The trace of one cell as (x, y) pairs in mm; samples are in µV. */
export function trace(samples: ArrayLike<number>, cell: Cell, fs: number): Float32Array {
  const end = Math.min(cell.end, samples.length);
  const n = Math.max(0, end - cell.start);
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[2 * i] = cell.x + (i / fs) * MM_PER_S;
    out[2 * i + 1] = cell.baseline - (samples[cell.start + i] / 1000) * MM_PER_MV;
  }
  return out;
}

/** The 1 mV, 0.2 s calibration pulse at the start of a row, as a polyline in mm. */
export function calibrationPulse(baseline: number): number[] {
  const x0 = 2;
  const w = 0.2 * MM_PER_S;
  const top = baseline - MM_PER_MV;
  return [x0 - 1, baseline, x0, baseline, x0, top, x0 + w, top, x0 + w, baseline, x0 + w + 1, baseline];
}

/** Grid line positions every `step` mm up to `length`. */
export function gridLines(length: number, step: number): number[] {
  const lines: number[] = [];
  for (let v = 0; v <= length + 1e-9; v += step) lines.push(Math.round(v * 1000) / 1000);
  return lines;
}

//! What a study card shows: its DICOM date in the user's language, its modalities, and what
//! it counts (images or frames).

import type { Study } from "../types";

/** A DICOM DA value (YYYYMMDD, or YYYY-MM-DD) as a date, or null. */
export function dicomDate(raw: string | null | undefined): Date | null {
  const m = raw?.trim().match(/^(\d{4})-?(\d{2})-?(\d{2})$/);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) || d.getMonth() !== Number(m[2]) - 1 ? null : d;
}

/** The study date as the user reads dates ("2024年3月5日", "Mar 5, 2024"); the raw text if odd. */
export function studyDateLabel(raw: string | null | undefined, lang: "en" | "ja"): string | null {
  if (!raw) return null;
  const d = dicomDate(raw);
  if (!d) return raw;
  return new Intl.DateTimeFormat(lang === "ja" ? "ja-JP" : "en-US", { year: "numeric", month: "short", day: "numeric" }).format(d);
}

/** The modalities of a study's images: presentation states (PR, its annotations) are not images. */
export function imageModalities(study: Pick<Study, "modalities">): string[] {
  return study.modalities.filter((m) => m !== "PR");
}

/** "CT", "CT/SR", or "—" for a study without modalities (annotations, PR, not counted). */
export function modalityLabel(study: Pick<Study, "modalities">): string {
  const shown = imageModalities(study);
  return shown.length ? shown.join("/") : "—";
}

/**
 * What a card counts: frames when the study holds multi-frame instances (an ultrasound cine of
 * 16 frames is "16 frames", not "1 image"), else images.
 */
export function imageCount(study: Pick<Study, "instance_count"> & { frame_count?: number }): { unit: "frames" | "images"; n: number } {
  const frames = study.frame_count ?? 0;
  return frames > study.instance_count ? { unit: "frames", n: frames } : { unit: "images", n: study.instance_count };
}

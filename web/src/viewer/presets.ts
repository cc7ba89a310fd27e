//! The window presets a radiologist expects (in Hounsfield units), plus the study's own.

import type { Window } from "./lut";

export type PresetKey = "own" | "lung" | "mediastinum" | "bone" | "brain" | "abdomen";

export const CT_PRESETS: { key: Exclude<PresetKey, "own">; window: Window }[] = [
  { key: "lung", window: { center: -600, width: 1500 } },
  { key: "mediastinum", window: { center: 40, width: 400 } },
  { key: "bone", window: { center: 400, width: 1800 } },
  { key: "brain", window: { center: 40, width: 80 } },
  { key: "abdomen", window: { center: 60, width: 400 } },
];

/** Whether the Hounsfield presets make sense for a frame (CT, or values given in HU). */
export function hasHuPresets(modality: string | null | undefined, rescaleType: string | null | undefined): boolean {
  return modality === "CT" || rescaleType === "HU";
}

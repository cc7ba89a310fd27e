//! Window/level on the client: a lookup table from every 16-bit sample to a packed grey RGBA
//! pixel (rescale, VOI window and MONOCHROME1 inversion folded in), applied in one pass.

export type SampleType = "int16" | "uint16";
export type VoiFunction = "Linear" | "LinearExact" | "Sigmoid";

export interface Window {
  center: number;
  width: number;
}

export interface LutInput {
  sampleType: SampleType;
  slope: number;
  intercept: number;
  window: Window;
  invert: boolean;
  fn?: VoiFunction;
}

/** The display value 0–255 of one modality value under a window (DICOM PS3.3 C.11.2.1.2). */
export function windowValue(x: number, { center: c, width: w }: Window, fn: VoiFunction = "Linear"): number {
  if (fn === "Sigmoid") return 255 / (1 + Math.exp((-4 * (x - c)) / Math.max(w, 1e-6)));
  if (fn === "LinearExact") {
    const width = Math.max(w, 1e-6);
    if (x <= c - width / 2) return 0;
    if (x > c + width / 2) return 255;
    return ((x - c) / width + 0.5) * 255;
  }
  const width = Math.max(w, 1);
  const low = c - 0.5 - (width - 1) / 2;
  const high = c - 0.5 + (width - 1) / 2;
  if (x <= low) return 0;
  if (x > high) return 255;
  if (width === 1) return 255;
  return ((x - (c - 0.5)) / (width - 1) + 0.5) * 255;
}

/** Offset that turns a sample into a LUT index. */
export function lutOffset(type: SampleType): number {
  return type === "int16" ? 32768 : 0;
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Packs a grey level as an opaque RGBA pixel in the platform's byte order. */
export function packGrey(g: number): number {
  return littleEndian ? (0xff000000 | (g << 16) | (g << 8) | g) >>> 0 : ((g << 24) | (g << 16) | (g << 8) | 0xff) >>> 0;
}

/** 65,536 packed pixels, one for each possible sample. */
export function buildLut({ sampleType, slope, intercept, window, invert, fn }: LutInput): Uint32Array {
  const lut = new Uint32Array(65536);
  const offset = lutOffset(sampleType);
  for (let i = 0; i < 65536; i++) {
    const modality = (i - offset) * slope + intercept;
    let g = Math.round(windowValue(modality, window, fn));
    if (invert) g = 255 - g;
    lut[i] = packGrey(g);
  }
  return lut;
}

/** Writes `samples` through `lut` into `out` (a Uint32Array view of RGBA ImageData). */
export function applyLut(samples: Int16Array | Uint16Array, lut: Uint32Array, offset: number, out: Uint32Array): void {
  const n = Math.min(samples.length, out.length);
  if (offset === 0) {
    for (let i = 0; i < n; i++) out[i] = lut[samples[i]];
  } else {
    for (let i = 0; i < n; i++) out[i] = lut[samples[i] + offset];
  }
}

/** The window after dragging by (dx, dy) screen pixels: right widens, down raises the centre. */
export function dragWindow(start: Window, dx: number, dy: number, range: number): Window {
  const step = Math.max(range, 1) / 512;
  return {
    center: start.center + dy * step,
    width: Math.max(1, start.width + dx * step),
  };
}

/** The full-range window of a frame (when the object has none). */
export function fullRange(min: number, max: number): Window {
  return { center: (min + max) / 2, width: Math.max(1, max - min) };
}

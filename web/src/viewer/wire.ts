// What the viewer reads that the OpenAPI document does not describe: the raw frame's
// X-Frame-Info header (JSON), and the waveforms' JSON (the document names no schema for it).

export interface WindowPreset {
  center: number;
  width: number;
  explanation: string | null;
  function: "Linear" | "LinearExact" | "Sigmoid";
}

/** The X-Frame-Info header of a raw frame. */
export interface FrameInfo {
  rows: number;
  columns: number;
  sample_type: "int16" | "uint16";
  rescale_slope: number;
  rescale_intercept: number;
  rescale_applied: boolean;
  rescale_type: string | null;
  min_value: number;
  max_value: number;
  invert: boolean;
  window_presets: WindowPreset[];
  pixel_spacing_mm: [number, number] | null;
}

export interface WaveformChannel {
  label: string;
  source: string | null;
  source_code: string | null;
  units: string | null;
  sample_unit: string | null;
  samples: number[];
}

export interface WaveformGroup {
  index: number;
  label: string | null;
  sampling_frequency_hz: number;
  number_of_samples: number;
  time_offset_ms: number;
  channels: WaveformChannel[];
}

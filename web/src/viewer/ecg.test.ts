import { describe, expect, it } from "vitest";
import { calibrationPulse, gridLines, layout, leadChannels, pickGroup, standardLead, trace, MM_PER_MV } from "./ecg";
import type { WaveformGroup } from "./wire";

const channel = (label: string, n: number, value = 0) => ({
  label,
  source: `Lead ${label}`,
  source_code: null,
  units: "uV",
  sample_unit: "uV",
  samples: new Array(n).fill(value),
});
const LABELS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];
const group = (label: string, n: number, fs = 500): WaveformGroup => ({
  index: 0,
  label,
  sampling_frequency_hz: fs,
  number_of_samples: n,
  time_offset_ms: 0,
  channels: LABELS.map((l) => channel(l, n)),
});

describe("ECG layout", () => {
  it("recognises lead names as DICOM gives them", () => {
    expect(standardLead("Lead I (Einthoven)")).toBe("I");
    expect(standardLead("avr")).toBe("aVR");
    expect(standardLead("V6")).toBe("V6");
    expect(standardLead("Pressure")).toBeNull();
  });

  it("draws the 10 s rhythm group rather than the median beat", () => {
    const rhythm = group("RHYTHM", 10000, 1000);
    const median = group("MEDIAN BEAT", 1200, 1000);
    expect(pickGroup([median, rhythm])).toBe(rhythm);
    expect(Object.keys(leadChannels(rhythm))).toHaveLength(12);
  });

  it("puts 12 leads in 3 × 4 cells of 2.5 s plus a 10 s lead II strip at 25 mm/s", () => {
    const paper = layout(group("RHYTHM", 5000), () => true);
    expect(paper.cells).toHaveLength(13);
    const v4 = paper.cells.find((c) => c.lead === "V4")!;
    expect(v4.start).toBe(3750);
    expect(v4.end).toBe(5000);
    expect(v4.x).toBe(10 + 3 * 2.5 * 25);
    const strip = paper.cells[12];
    expect(strip.lead).toBe("II");
    expect(strip.end - strip.start).toBe(5000);
    expect(paper.width).toBeGreaterThanOrEqual(250);
    expect(paper.height).toBe(120);
  });

  it("maps µV to 10 mm/mV above the baseline and time to 25 mm/s", () => {
    const cell = { lead: "I" as const, x: 10, baseline: 15, start: 0, end: 3 };
    const t = trace([0, 1000, -500], cell, 500);
    [10, 15, 10.05, 15 - MM_PER_MV, 10.1, 20].forEach((v, i) => expect(t[i]).toBeCloseTo(v, 4));
  });

  it("has a 1 mV calibration pulse and 1/5 mm grid", () => {
    const p = calibrationPulse(15);
    expect(Math.min(...p.filter((_, i) => i % 2 === 1))).toBe(5);
    expect(gridLines(10, 5)).toEqual([0, 5, 10]);
    expect(gridLines(3, 1)).toHaveLength(4);
  });
});

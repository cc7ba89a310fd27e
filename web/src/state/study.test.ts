import { describe, expect, it } from "vitest";
import { dicomDate, imageCount, modalityLabel, studyDateLabel } from "./study";

describe("study card text", () => {
  it("reads DICOM dates", () => {
    expect(dicomDate("20240305")?.getDate()).toBe(5);
    expect(dicomDate("2024-03-05")?.getMonth()).toBe(2);
    expect(dicomDate("20241345")).toBeNull();
    expect(dicomDate("")).toBeNull();
  });

  it("formats them per language, keeping odd values as they are", () => {
    expect(studyDateLabel("20240305", "ja")).toBe("2024年3月5日");
    expect(studyDateLabel("20240305", "en")).toBe("Mar 5, 2024");
    expect(studyDateLabel("2024", "en")).toBe("2024");
    expect(studyDateLabel(null, "en")).toBeNull();
  });

  it("joins modalities", () => {
    expect(modalityLabel({ modalities: ["CT", "SR"] })).toBe("CT/SR");
    expect(modalityLabel({ modalities: [] })).toBe("—");
    expect(modalityLabel({ modalities: ["CT", "PR"] })).toBe("CT");
  });

  it("counts a cine by its frames", () => {
    expect(imageCount({ instance_count: 1, frame_count: 16 })).toEqual({ unit: "frames", n: 16 });
    expect(imageCount({ instance_count: 301, frame_count: 301 })).toEqual({ unit: "images", n: 301 });
    expect(imageCount({ instance_count: 1 })).toEqual({ unit: "images", n: 1 });
  });
});

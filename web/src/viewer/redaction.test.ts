import { describe, expect, it } from "vitest";
import { boxBetween } from "./redaction";

const image = { width: 100, height: 80 };

describe("boxBetween", () => {
  it("takes whole pixels outward, whichever way the drag went", () => {
    expect(boxBetween({ x: 10.6, y: 20.2 }, { x: 4.2, y: 30.5 }, image)).toEqual({ x: 4, y: 20, width: 7, height: 11 });
  });
  it("clips to the image", () => {
    expect(boxBetween({ x: -20, y: -5 }, { x: 130, y: 10 }, image)).toEqual({ x: 0, y: 0, width: 100, height: 10 });
  });
  it("ignores taps and boxes off the image", () => {
    expect(boxBetween({ x: 5, y: 5 }, { x: 5.5, y: 5.5 }, image)).toBeNull();
    expect(boxBetween({ x: 120, y: 10 }, { x: 150, y: 40 }, image)).toBeNull();
  });
});

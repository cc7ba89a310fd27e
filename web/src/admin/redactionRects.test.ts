import { describe, expect, it } from "vitest";
import { parseRects, rectsText } from "./redactionRects";

describe("parseRects", () => {
  it("reads one rectangle per line, with commas or spaces", () => {
    expect(parseRects("0, 0, 640, 40\n\n 10 400 120 30 ")).toEqual({
      rects: [
        { x: 0, y: 0, width: 640, height: 40 },
        { x: 10, y: 400, width: 120, height: 30 },
      ],
    });
  });
  it("names the first line that is not a rectangle", () => {
    expect(parseRects("0,0,10,10\n1,2,3")).toEqual({ badLine: 2 });
    expect(parseRects("-1,0,10,10")).toEqual({ badLine: 1 });
  });
  it("round-trips through the form's text", () => {
    const rects = [{ x: 1, y: 2, width: 3, height: 4 }];
    expect(parseRects(rectsText(rects))).toEqual({ rects });
  });
});

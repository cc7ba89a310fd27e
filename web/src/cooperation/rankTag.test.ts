import { describe, expect, it } from "vitest";
import { rankTag } from "./rankTag";

describe("directory match tag", () => {
  it("is absent when nothing was typed", () => {
    expect(rankTag("", "prefix")).toBeNull();
    expect(rankTag("  \u3000", "prefix")).toBeNull();
  });
  it("names the match kind for a query", () => {
    expect(rankTag("さと", "prefix")).toBe("prefix");
  });
});

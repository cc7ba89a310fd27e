import { describe, expect, it } from "vitest";
import { isPhone } from "./phone";

describe("isPhone", () => {
  it("accepts numbers and extensions as hospitals write them", () => {
    for (const ok of ["+81 (97) 549-4411", "内線 4321", "内線4321", "PHS 1234", "03-1234-5678 内線 12", "0975-49-4411 ext. 12", "(097) 549-4411 x 7", "内線\u30004321"]) {
      expect(isPhone(ok), ok).toBe(true);
    }
  });
  it("refuses junk", () => {
    for (const bad of ["", "call me", "内線", "内線 abc", "PHS", "tel 1234", "4321 まで", "03-1234-5678 内線", "ext 1 2 3; DROP", `内線 ${"1".repeat(30)}`]) {
      expect(isPhone(bad), bad).toBe(false);
    }
  });
});

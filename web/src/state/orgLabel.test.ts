import { describe, expect, it } from "vitest";
import { otherOrgName } from "./orgLabel";

describe("the other person's hospital", () => {
  it("is named for someone of another hospital", () => {
    expect(otherOrgName({ org_id: "b", org_name: "港北病院" }, "a")).toBe("港北病院");
  });
  it("is left out for a colleague, or when unknown", () => {
    expect(otherOrgName({ org_id: "a", org_name: "中央病院" }, "a")).toBeNull();
    expect(otherOrgName({ org_id: "b" }, "a")).toBeNull();
    expect(otherOrgName(undefined, "a")).toBeNull();
  });
});

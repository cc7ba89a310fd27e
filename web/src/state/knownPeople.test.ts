import { describe, expect, it } from "vitest";
import { member, person } from "./fixtures";
import { anyUnknown, peerOf, withDirectory, withMet } from "./knownPeople";

describe("people known by name", () => {
  it("the directory replaces older copies and adds me; others known stay", () => {
    const users = { a: person("a", { display_name: "old" }), x: person("x", { org_id: "p" }) };
    const known = withDirectory(users, [person("a"), person("b")], person("me"));
    expect(Object.keys(known).sort()).toEqual(["a", "b", "me", "x"]);
    expect(known.a.display_name).toBe("name a");
    expect(users.a.display_name).toBe("old");
  });

  it("people met in the directory are added; one known keeps its record and learns its hospital's name", () => {
    const users = { a: person("a", { display_name: "as known" }), b: person("b", { org_name: "known hospital" }) };
    const known = withMet(users, [
      person("a", { display_name: "from the directory", org_name: "partner" }),
      person("b", { org_name: "other" }),
      person("c", { org_name: "partner" }),
    ]);
    expect(known.a).toMatchObject({ display_name: "as known", org_name: "partner" });
    expect(known.b.org_name).toBe("known hospital");
    expect(known.c.org_name).toBe("partner");
  });

  it("a direct conversation's peer is the member who is not me", () => {
    expect(peerOf([member("me"), member("u")], "me")).toBe("u");
    expect(peerOf([member("me")], "me")).toBeUndefined();
  });

  it("tells whether a member's name is still unknown", () => {
    expect(anyUnknown([member("a"), member("b")], { a: person("a") })).toBe(true);
    expect(anyUnknown([member("a")], { a: person("a") })).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { AVATAR_PALETTE, avatarColor, conversationAvatarId } from "./avatar";

describe("avatar colours", () => {
  it("gives one person the same colour every time, from the palette", () => {
    const id = "0190f1a2-7c3b-7def-8123-456789abcdef";
    expect(avatarColor(id)).toBe(avatarColor(`${id}`));
    expect(AVATAR_PALETTE).toContain(avatarColor(id));
  });

  it("spreads different people over the palette", () => {
    const colours = new Set(Array.from({ length: 64 }, (_, i) => avatarColor(`user-${i}`)));
    expect(colours.size).toBeGreaterThan(4);
  });

  it("shows a 1:1 conversation in the other person's colour, a group in its own", () => {
    expect(conversationAvatarId({ id: "conv", kind: "direct" }, "bob")).toBe("bob");
    expect(avatarColor(conversationAvatarId({ id: "conv", kind: "direct" }, "bob"))).toBe(avatarColor("bob"));
    expect(conversationAvatarId({ id: "conv", kind: "group" }, undefined)).toBe("conv");
    expect(conversationAvatarId({ id: "conv", kind: "direct" }, undefined)).toBe("conv");
  });
});

import { describe, expect, it } from "vitest";
import { badgeQuiet, countsInTotal } from "./notify";
import type { Message } from "../types";
import { msg } from "./fixtures";

const last = (extra: Partial<Message> = {}) => msg(3, { sender_id: "bob", ...extra });

describe("notification level in the app", () => {
  it("keeps muted conversations out of the total", () => {
    expect(countsInTotal({ notify: "mute" })).toBe(false);
    expect(countsInTotal({ notify: "mentions" })).toBe(true);
    expect(countsInTotal({})).toBe(true);
  });

  it("greys the badge unless the level lets the newest message through", () => {
    expect(badgeQuiet({ notify: "all", unread: 2, last_message: last() })).toBe(false);
    expect(badgeQuiet({ notify: "mute", unread: 2, last_message: last({ priority: "urgent" }) })).toBe(true);
    expect(badgeQuiet({ notify: "mentions", unread: 2, last_message: last() }, "me")).toBe(true);
    expect(badgeQuiet({ notify: "mentions", unread: 2, last_message: last({ mentions: ["me"] }) }, "me")).toBe(false);
    expect(badgeQuiet({ notify: "mentions", unread: 2, last_message: last({ priority: "urgent" }) }, "me")).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { badgeQuiet, countsInTotal } from "./notify";
import type { Message } from "../types";

const last = (extra: Partial<Message> = {}): Message => ({
  id: "m",
  conversation_id: "c",
  seq: 3,
  sender_id: "bob",
  client_msg_id: "x",
  body: "hi",
  reply_to: null,
  priority: "normal",
  mentions: [],
  attachments: [],
  created_at: "2026-01-01T00:00:00Z",
  edited_at: null,
  deleted_at: null,
  ...extra,
});

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

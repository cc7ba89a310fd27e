import { describe, expect, it } from "vitest";
import { firstUnreadSeq, newSince } from "./unread";
import type { Message } from "../types";
import { msg as message } from "./fixtures";

const msg = (seq: number, sender = "other", extra: Partial<Message> = {}) => message(seq, { sender_id: sender, ...extra });

describe("where a chat opens", () => {
  const list = [msg(1), msg(2, "me"), msg(3, "me"), msg(4), msg(5)];
  it("opens at the first message of others after my read mark", () => {
    expect(firstUnreadSeq(list, 2, "me")).toBe(4);
  });
  it("opens at the newest when all is read, or only my own messages are newer", () => {
    expect(firstUnreadSeq(list, 5, "me")).toBeNull();
    expect(firstUnreadSeq([msg(1), msg(2, "me")], 1, "me")).toBeNull();
  });
  it("skips deleted messages", () => {
    expect(firstUnreadSeq([msg(1), msg(2, "x", { deleted_at: "t" }), msg(3)], 1, "me")).toBe(3);
  });
});

describe("jump to latest", () => {
  it("counts what others wrote since the reader scrolled up", () => {
    const list = [msg(1), msg(2), msg(3, "me"), msg(4), msg(5)];
    expect(newSince(list, 2, "me")).toBe(2);
    expect(newSince(list, 5, "me")).toBe(0);
  });
});

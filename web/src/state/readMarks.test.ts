import { describe, expect, it } from "vitest";
import { chat, conv, msg } from "./fixtures";
import { isViewing, readMarkToPost } from "./readMarks";

describe("looking at a conversation", () => {
  it("only when the app is ready, it is the open one and the page shows", () => {
    expect(isViewing({ phase: "ready", selected: "c" }, "c", true)).toBe(true);
    expect(isViewing({ phase: "ready", selected: "c" }, "c", false)).toBe(false);
    expect(isViewing({ phase: "ready", selected: "d" }, "c", true)).toBe(false);
    expect(isViewing({ phase: "locked", selected: "c" }, "c", true)).toBe(false);
  });
});

describe("the read mark to post", () => {
  it("reads up to the conversation's newest seq, even beyond the loaded messages", () => {
    expect(readMarkToPost(conv({ last_seq: 9, last_read_seq: 5 }), chat({ messages: [msg(7)] }))).toBe(9);
    expect(readMarkToPost(conv({ last_seq: 9, last_read_seq: 5 }), chat({ messages: [msg(10)] }))).toBe(10);
  });

  it("reads a window in the middle only up to what is on screen", () => {
    expect(readMarkToPost(conv({ last_seq: 90, last_read_seq: 5 }), chat({ hasNewer: true, messages: [msg(30), msg(31)] }))).toBe(31);
  });

  it("posts nothing when all is read, and again when the unread count says otherwise", () => {
    expect(readMarkToPost(conv({ last_seq: 9, last_read_seq: 9 }), chat({ messages: [msg(9)] }))).toBeNull();
    expect(readMarkToPost(conv({ last_seq: 9, last_read_seq: 9, unread: 2 }), chat({ messages: [msg(9)] }))).toBe(9);
  });

  it("posts nothing for a chat not loaded, or a conversation not in the list", () => {
    expect(readMarkToPost(conv({ last_read_seq: 0 }), chat({ loaded: false }))).toBeNull();
    expect(readMarkToPost(conv({ last_read_seq: 0 }), undefined)).toBeNull();
    expect(readMarkToPost(undefined, chat())).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { completeMention, mentionedIds, mentionQuery, splitMentions } from "./mentions";

const tanaka = { id: "b", display_name: "田中 一郎" };
const sato = { id: "a", display_name: "Sato" };

describe("mentions", () => {
  it("finds the @word being typed at the caret", () => {
    expect(mentionQuery("hi @ta", 6)).toEqual({ start: 3, query: "ta" });
    expect(mentionQuery("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQuery("mail a@b", 8)).toBeNull();
    expect(mentionQuery("hi @ta there", 12)).toBeNull();
  });

  it("completes it with the name and a space", () => {
    expect(completeMention("hi @ta!", 3, 6, "田中 一郎")).toEqual({ text: "hi @田中 一郎 !", caret: 10 });
  });

  it("lists who the text still mentions", () => {
    expect(mentionedIds("@田中 一郎 please check, cc @Sato", [tanaka, sato])).toEqual(["b", "a"]);
    expect(mentionedIds("no one", [tanaka])).toEqual([]);
  });

  it("splits a body into text and mentions, names with spaces included", () => {
    expect(splitMentions("@田中 一郎 see bed 12", [tanaka])).toEqual([{ text: "@田中 一郎", mention: "b" }, { text: " see bed 12" }]);
    expect(splitMentions("plain", [])).toEqual([{ text: "plain" }]);
    expect(splitMentions("a@Satox", [sato])).toEqual([{ text: "a" }, { text: "@Sato", mention: "a" }, { text: "x" }]);
  });
});

import { describe, expect, it } from "vitest";
import { filterPeople, normalize } from "./people";

const people = [
  { login: "tanaka", display_name: "田中 一郎", kana: "たなか いちろう", romaji: "tanaka ichirou" },
  { login: "sato", display_name: "佐藤 花子", kana: "さとう はなこ", romaji: "satou hanako" },
  { login: "smith", display_name: "John Smith", kana: "じょん すみす", romaji: "jon sumisu" },
];

describe("people search", () => {
  it("finds by part of the name, kana (either script, any width) and romaji", () => {
    const names = (q: string) => filterPeople(people, q).map((p) => p.login);
    expect(names("田中")).toEqual(["tanaka"]);
    expect(names("はなこ")).toEqual(["sato"]);
    expect(names("ハナコ")).toEqual(["sato"]);
    expect(names("ﾊﾅｺ")).toEqual(["sato"]);
    expect(names("ICHI")).toEqual(["tanaka"]);
    expect(names("tanaka ichi")).toEqual(["tanaka"]);
    expect(names("smi")).toEqual(["smith"]);
    expect(names("")).toHaveLength(3);
    expect(names("xyz")).toEqual([]);
  });

  it("normalizes width, case, script and spaces", () => {
    expect(normalize("ＴＡＮＡＫＡ　タナカ")).toBe("tanakaたなか");
  });
});

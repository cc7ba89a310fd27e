import { describe, expect, it } from "vitest";
import { highlight, queryForms, romajiToHiragana } from "./searchText";

describe("message search forms", () => {
  it("reads romaji as kana like the server", () => {
    expect(romajiToHiragana("kekka")).toBe("けっか");
    expect(romajiToHiragana("shinden")).toBe("しんでん");
    expect(romajiToHiragana("shinnyuu")).toBe("しんにゅう");
    expect(romajiToHiragana("matcha")).toBe("まっちゃ");
    expect(romajiToHiragana("mri")).toBeNull();
  });

  it("folds the query's width, case and kana script", () => {
    expect(queryForms("ＫＥＫＫＡ")).toEqual(["kekka", "けっか"]);
    expect(queryForms("ケッカ")).toEqual(["けっか"]);
  });

  it("marks what matched in a body, in either kana script or from romaji", () => {
    const marked = (body: string, q: string) => highlight(body, q).filter((p) => p.hit).map((p) => p.text);
    expect(marked("ケッカは明日です", "kekka")).toEqual(["ケッカ"]);
    expect(marked("けっかを確認", "ケッカ")).toEqual(["けっか"]);
    expect(marked("造影CT 完了", "ct")).toEqual(["CT"]);
    expect(highlight("abc", "x")).toEqual([{ text: "abc", hit: false }]);
  });
});

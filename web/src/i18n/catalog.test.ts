import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { en, ja } from "./catalog";
import { detectLang, translate } from "./i18n";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("message catalogue", () => {
  it("has every key in both languages, none empty", () => {
    expect(Object.keys(ja).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(ja)) expect(text, key).not.toBe("");
  });

  it("keeps the same placeholders in both languages", () => {
    const vars = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) expect(vars(ja[key]), key).toEqual(vars(en[key]));
  });

  it("translates Japanese text into Japanese (not English left behind)", () => {
    const same = (Object.keys(en) as (keyof typeof en)[]).filter(
      (k) => en[k] === ja[k] && !["app.name", "lang.en", "lang.ja"].includes(k),
    );
    expect(same).toEqual([]);
  });

  it("covers every key the code uses", () => {
    const used = new Set<string>();
    for (const file of sources(join(__dirname, ".."))) {
      for (const m of readFileSync(file, "utf8").matchAll(/\bt\(\s*"([a-zA-Z]+\.[a-zA-Z.]+)"/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(30);
    for (const key of used) expect(Object.keys(en), key).toContain(key);
  });

  it("fills placeholders and picks the browser's language", () => {
    expect(translate("ja", "chat.readBy", { n: 1, of: 3 })).toBe("既読 1/3");
    expect(translate("en", "chat.readBy", { n: 1, of: 3 })).toBe("Read by 1 of 3");
    expect(detectLang(null, ["ja-JP", "en-US"])).toBe("ja");
    expect(detectLang(null, ["fr-FR", "en-GB"])).toBe("en");
    expect(detectLang(null, ["fr-FR"])).toBe("en");
    expect(detectLang("en", ["ja-JP"])).toBe("en");
  });
});

import { describe, expect, it } from "vitest";
import { csvErrorText, type RowError } from "./csvErrors";
import { translate } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";

const ja = (key: MessageKey, vars?: Record<string, string | number>) => translate("ja", key, vars);
const err = (code: string, column: string | null, params?: Record<string, string | number>): RowError => ({
  row: 4,
  column,
  code,
  message: "english text",
  params,
});

describe("CSV import errors", () => {
  it("are Japanese in the Japanese interface, with their parameters", () => {
    expect(csvErrorText(ja, err("department_not_found", "department", { name: "眼科" }))).toBe(
      "部署「眼科」はありません。先に管理画面の「部署」で作成してください",
    );
    expect(csvErrorText(ja, err("duplicate_row", "login", { first: 2 }))).toBe("2行目と同じログインIDです");
    expect(csvErrorText(ja, err("duplicate_row", "staff_number", { first: 3 }))).toBe("3行目と同じ職員番号です");
    expect(csvErrorText(ja, err("column_count", null, { cells: 2, expected: 10 }))).toBe("この行は2列です。見出し行は10列あります");
    expect(csvErrorText(ja, err("missing_column", "profession"))).toBe("見出し行に「profession」列が必要です");
  });

  it("never leaves English in the Japanese interface for a known code", () => {
    for (const code of ["invalid_email", "invalid_phone", "invalid_profession", "invalid_role", "login_taken", "invalid_status", "invalid_boolean", "value_too_long"]) {
      const text = csvErrorText(ja, err(code, "email"));
      expect(text, code).not.toBe("english text");
      expect(text, code).toMatch(/[ぁ-んァ-ン一-龯]/);
    }
  });

  it("falls back to the server's message for a code it does not know", () => {
    expect(csvErrorText(ja, err("some_new_code", null))).toBe("english text");
  });

  it("speaks English in the English interface", () => {
    const en = (key: MessageKey, vars?: Record<string, string | number>) => translate("en", key, vars);
    expect(csvErrorText(en, err("duplicate_row", "login", { first: 2 }))).toBe("Row 2 has the same login ID");
  });
});

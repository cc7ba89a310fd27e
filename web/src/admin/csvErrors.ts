// A CSV import problem in the user's language, from its code and parameters (the server's
// English message only for a code this client does not know yet).

import type { MessageKey } from "../i18n/catalog";

export interface RowError {
  row: number;
  column: string | null;
  code: string;
  message: string;
  params?: Record<string, string | number>;
}

type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

/** Codes whose message depends on the column (`duplicate_row`, `login_taken`). */
const BY_COLUMN: Record<string, Record<string, MessageKey>> = {
  duplicate_row: { "": "csv.error.duplicate_row", login: "csv.error.duplicate_row.login", staff_number: "csv.error.duplicate_row.staff_number" },
};

const KNOWN = new Set([
  "invalid_encoding",
  "missing_header",
  "too_many_rows",
  "malformed_row",
  "column_count",
  "unknown_column",
  "duplicate_column",
  "missing_column",
  "conflicting_match",
  "forbidden",
  "invalid_status_transition",
  "login_taken",
  "staff_number_taken",
  "invalid_profession",
  "department_not_found",
  "invalid_role",
  "invalid_status",
  "invalid_boolean",
  "invalid_name",
  "value_too_long",
  "invalid_characters",
  "invalid_login",
  "invalid_email",
  "invalid_phone",
  "invalid_staff_number",
  "invalid_affiliation",
]);

/** The message key of an error, or null when the code is unknown here. */
export function csvErrorKey(e: RowError): MessageKey | null {
  const byColumn = BY_COLUMN[e.code];
  if (byColumn) return byColumn[e.column ?? ""] ?? byColumn[""];
  return KNOWN.has(e.code) ? (`csv.error.${e.code}` as MessageKey) : null;
}

/** The error as a sentence in the interface's language. */
export function csvErrorText(t: Translate, e: RowError): string {
  const key = csvErrorKey(e);
  if (!key) return e.message;
  return t(key, { column: e.column ?? "", ...(e.params ?? {}) });
}

// Admin REST calls. Unlike ../api.ts these never throw on an HTTP error: admin screens need
// the whole answer (a 409's `current` version, a CSV import's row errors).

import type { components } from "../api/schema";
import type { Department, User } from "../types";

export { professionValues as PROFESSIONS, userStatusValues as STATUSES } from "../api/schema";

export type Affiliation = components["schemas"]["Affiliation"];
/** A user record as administrators read and edit it. */
export type AdminUser = User;
export type { Department };

export interface Reply {
  status: number;
  // The server's JSON (or text for CSV); `code`/`message` on errors.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

function csrf(): string {
  const match = document.cookie.match(/(?:^|;\s*)renkei_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** One call; `status` 0 means the server could not be reached. */
export async function call(method: string, path: string, body?: unknown, contentType = "application/json", extra: Record<string, string> = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: "application/json", ...extra };
  if (method !== "GET") headers["x-csrf-token"] = csrf();
  if (body !== undefined) headers["content-type"] = contentType;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : contentType === "application/json" ? JSON.stringify(body) : (body as BodyInit),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    return { status: 0, body: { code: "network", message: "network error" } };
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: response.status, body: parsed };
}

/** A query string of the non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

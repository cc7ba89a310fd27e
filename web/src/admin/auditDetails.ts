// An audit entry's `details` as readable lines: each changed field with its value before and
// after, other facts as "name: value". Pure, so the page never renders an object as a child.

export interface DetailLine {
  field: string;
  /** Set for a changed field. */
  before?: string;
  after?: string;
  /** Set for a plain fact. */
  value?: string;
}

/** A value as short text: strings as they are, empty as "—", anything else as JSON. */
export function shown(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number")) {
    return value.length ? value.join(", ") : "—";
  }
  return JSON.stringify(value);
}

function isChange(value: unknown): value is { before: unknown; after: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "before" in value && "after" in value;
}

/** The lines of an entry's details (an object, its JSON text, or anything else). */
export function detailLines(details: unknown): DetailLine[] {
  let value = details;
  if (typeof value === "string") {
    try {
      value = value.trim() ? JSON.parse(value) : {};
    } catch {
      return [{ field: "", value: details as string }];
    }
  }
  if (typeof value !== "object" || value === null) return value === undefined ? [] : [{ field: "", value: shown(value) }];
  if (Array.isArray(value)) return [{ field: "", value: shown(value) }];
  const lines: DetailLine[] = [];
  for (const [field, v] of Object.entries(value)) {
    if (field === "changes" && typeof v === "object" && v !== null && !Array.isArray(v)) {
      for (const [changed, change] of Object.entries(v)) {
        lines.push(isChange(change) ? { field: changed, before: shown(change.before), after: shown(change.after) } : { field: changed, value: shown(change) });
      }
    } else if (isChange(v)) {
      lines.push({ field, before: shown(v.before), after: shown(v.after) });
    } else {
      lines.push({ field, value: shown(v) });
    }
  }
  return lines;
}

// The addresses a DICOM peer may call from, as typed by an administrator: one per line (or
// separated by commas or spaces), trimmed, each once. Pure.

export function parseAddresses(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[\s,、]+/)) {
    const a = part.trim();
    if (a) seen.add(a);
  }
  return [...seen];
}

/** The list as the form shows it, one per line. */
export function addressText(allow: readonly string[]): string {
  return allow.join("\n");
}

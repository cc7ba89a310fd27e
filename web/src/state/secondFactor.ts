// Pure helpers of the second-factor screens: how a secret is shown, and reading what was typed.

/** A base32 secret in groups of four, easier to copy by hand: "ABCD EFGH …". */
export function groupSecret(secret: string): string {
  const clean = secret.replace(/[\s=]/g, "").toUpperCase();
  return (clean.match(/.{1,4}/g) ?? []).join(" ");
}

/** Full-width digits (from a Japanese input method) become ASCII; spaces and hyphens go. */
export function normalizeTyped(input: string): string {
  return input
    .replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/[\s\u3000-]/g, "");
}

/** Six digits: an authenticator code. */
export function isTotpCode(input: string): boolean {
  return /^\d{6}$/.test(normalizeTyped(input));
}

/** Sixteen letters and digits (hyphens and spaces ignored): a recovery code. */
export function isRecoveryCode(input: string): boolean {
  return /^[a-z0-9]{16}$/i.test(normalizeTyped(input));
}

/** What to send for a typed code, or null when it can be neither kind. */
export function codeToSend(input: string): string | null {
  if (isTotpCode(input)) return normalizeTyped(input);
  if (isRecoveryCode(input)) return input.trim();
  return null;
}

/** The recovery codes as a text file's content (one a line, with a heading). */
export function recoveryCodesText(heading: string, codes: string[]): string {
  return [heading, "", ...codes, ""].join("\n");
}

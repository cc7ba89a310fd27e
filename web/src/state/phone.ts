//! The phone field's rule, the same as the server's (`renkei-core/src/validate.rs`): digits with
//! + - ( ) and spaces, and "内線", "PHS", "ext", "ext." or "x" before digits; 32 characters at most.

const LABELS = ["内線", "phs", "ext.", "ext", "x"];
const SPACES = /^[ \u3000]*/;

/** Whether `raw` (trimmed) is a phone number or an extension the server accepts. */
export function isPhone(raw: string): boolean {
  const value = raw.trim();
  if (!value || [...value].length > 32) return false;
  let digits = false;
  let rest = value;
  while (rest) {
    const label = LABELS.find((l) => rest.slice(0, l.length).toLowerCase() === l);
    if (label) {
      rest = rest.slice(label.length).replace(SPACES, "");
      if (!/^[0-9]/.test(rest)) return false;
      continue;
    }
    const c = rest[0];
    if (/[0-9]/.test(c)) digits = true;
    else if (!"+-() \u3000".includes(c)) return false;
    rest = rest.slice(1);
  }
  return digits;
}

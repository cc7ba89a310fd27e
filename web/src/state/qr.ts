// The QR code of an otpauth link as an SVG path (loaded only by the set-up screen).

import qrcode from "qrcode-generator";

export interface Matrix {
  size: number;
  dark: (row: number, col: number) => boolean;
}

/** The QR modules of `text` (byte mode, error correction M, the smallest version that fits). */
export function qrMatrix(text: string): Matrix {
  const code = qrcode(0, "M");
  code.addData(text, "Byte");
  code.make();
  return { size: code.getModuleCount(), dark: (r, c) => code.isDark(r, c) };
}

/** One unit square per dark module, in module coordinates (row = y, column = x). */
export function svgPath(m: Matrix): string {
  const parts: string[] = [];
  for (let r = 0; r < m.size; r++) for (let c = 0; c < m.size; c++) if (m.dark(r, c)) parts.push(`M${c} ${r}h1v1h-1z`);
  return parts.join("");
}

import { describe, expect, it } from "vitest";
import { qrMatrix, svgPath, type Matrix } from "./qr";

/** A finder pattern (7×7: dark ring, light ring, dark 3×3 centre) with its corner at (r, c). */
function finderAt(m: Matrix, r: number, c: number): boolean {
  for (let i = 0; i < 7; i++)
    for (let j = 0; j < 7; j++) {
      const ring = Math.max(Math.abs(i - 3), Math.abs(j - 3));
      if (m.dark(r + i, c + j) !== (ring !== 2)) return false;
    }
  return true;
}

describe("QR code of an otpauth link", () => {
  const uri =
    "otpauth://totp/renkei:tanaka?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=renkei&algorithm=SHA1&digits=6&period=30";

  it("has the three finder patterns and a version large enough for the link", () => {
    const m = qrMatrix(uri);
    // 113 bytes at level M need version 6 (41 modules) or more.
    expect(m.size).toBeGreaterThanOrEqual(41);
    expect((m.size - 17) % 4).toBe(0);
    expect(finderAt(m, 0, 0)).toBe(true);
    expect(finderAt(m, 0, m.size - 7)).toBe(true);
    expect(finderAt(m, m.size - 7, 0)).toBe(true);
    expect(finderAt(m, m.size - 7, m.size - 7)).toBe(false);
  });

  it("differs for another secret", () => {
    const a = svgPath(qrMatrix(uri));
    const b = svgPath(qrMatrix(uri.replace("GEZD", "MZXW")));
    expect(a).not.toBe(b);
  });

  it("draws one square per dark module", () => {
    const m: Matrix = { size: 2, dark: (r, c) => r === c };
    expect(svgPath(m)).toBe("M0 0h1v1h-1zM1 1h1v1h-1z");
  });
});

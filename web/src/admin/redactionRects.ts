// Redaction rectangles as an administrator types them: one "x, y, width, height" per line.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The rectangles of `text`, or the 1-based number of the first line that is not one. */
export function parseRects(text: string): { rects: Rect[] } | { badLine: number } {
  const rects: Rect[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const parts = line.split(/[\s,×x]+/).filter(Boolean);
    const numbers = parts.map(Number);
    if (numbers.length !== 4 || numbers.some((n) => !Number.isInteger(n) || n < 0)) return { badLine: i + 1 };
    const [x, y, width, height] = numbers;
    rects.push({ x, y, width, height });
  }
  return { rects };
}

/** Rectangles as the text the form shows. */
export function rectsText(rects: Rect[]): string {
  return rects.map((r) => `${r.x}, ${r.y}, ${r.width}, ${r.height}`).join("\n");
}

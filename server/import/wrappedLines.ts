/**
 * How many lines a wrapped cell takes, estimated, so the annotated copy can give its rows the
 * height to show them: LibreOffice opens a row without a height at the default height whatever
 * its wrapped text (checked: a row with a three-line 冲突说明 printed one line, overlapping the
 * next), and a file should not rely on a program fitting rows when it opens. Widths are in
 * Excel's unit, the width of a '0' of the default font: a Chinese character takes about two.
 */

const WIDE = '\\u2e80-\\ud7ff\\uf900-\\ufaff\\ufe30-\\ufe4f\\uff00-\\uffe6';
/** One wide character, a run of narrow non-space characters, or a run of spaces. */
const TOKENS = new RegExp(`[${WIDE}]|[^\\s${WIDE}]+|\\s+`, 'gu');

/** Points per line of 11-point text, with the leading a Chinese font needs (Excel's default row is 15). */
export const LINE_HEIGHT_POINTS = 16;
/** Excel's tallest row, in points. */
const MAX_ROW_HEIGHT_POINTS = 409;
/** Width units lost to the cell's inner margins. */
const CELL_PADDING = 1;
/** A Chinese glyph of the default size is a little over two '0's wide. */
const WIDE_CHARACTER = 2.1;
/** Lower-case Latin letters and spaces average about four fifths of a '0'; digits and capitals one. */
const SMALL_CHARACTER = 0.8;

function widthOf(codePoint: number): number {
  // CJK radicals up to the Hangul syllables, CJK compatibility and full-width forms.
  return (codePoint >= 0x2e80 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    codePoint >= 0x20000
    ? WIDE_CHARACTER
    : (codePoint >= 0x61 && codePoint <= 0x7a) || codePoint === 0x20
      ? SMALL_CHARACTER
      : 1;
}

/** The width of `text` on one line, in Excel's width units. */
export function textWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += widthOf(ch.codePointAt(0)!);
  return w;
}

/**
 * Lines `text` wraps to in a column `width` units wide: Chinese text breaks between any two
 * characters, other text at spaces (a word longer than the line is cut), and every line feed
 * starts a line.
 */
export function wrappedLineCount(text: string, width: number): number {
  if (text === '') return 0;
  const capacity = Math.max(1, width - CELL_PADDING);
  let lines = 0;
  for (const paragraph of text.split('\n')) {
    lines++;
    let used = 0;
    for (const token of paragraph.match(TOKENS) ?? []) {
      const w = textWidth(token);
      if (/^\s+$/.test(token)) {
        used = Math.min(capacity, used + w);
        continue;
      }
      if (used + w <= capacity) {
        used += w;
        continue;
      }
      // The token starts a new line; one longer than a line fills whole lines.
      if (used > 0) lines++;
      lines += Math.ceil(w / capacity) - 1;
      used = w - (Math.ceil(w / capacity) - 1) * capacity;
    }
  }
  return lines;
}

/** The row height, in points, that shows `lines` lines (capped at Excel's limit). */
export function heightForLines(lines: number): number {
  return Math.min(MAX_ROW_HEIGHT_POINTS, lines * LINE_HEIGHT_POINTS);
}

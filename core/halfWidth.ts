/**
 * Full-width (全角) to half-width (半角) folding for text typed with a Chinese input method:
 * `１３８`, `ＡＢＣ`, `（`, the ideographic space.
 */

/** Full-width ASCII (U+FF01–U+FF5E) to ASCII and the ideographic space (U+3000) to a space. */
export function toHalfWidth(text: string): string {
  return text.replace(/[\uFF01-\uFF5E\u3000]/g, (ch) =>
    ch === '\u3000' ? ' ' : String.fromCharCode(ch.charCodeAt(0) - 0xfee0),
  );
}

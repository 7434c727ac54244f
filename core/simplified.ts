/**
 * Traditional → simplified Chinese (繁体 → 简体) for matching, with opencc-js. Only the t2cn
 * dictionaries are imported (about a tenth of the full package), which matters for the add-in bundle.
 */
import * as OpenCC from 'opencc-js/t2cn';

interface Simplifier {
  convert: (text: string) => string;
  /**
   * Per UTF-16 unit: 1 when some dictionary entry of the conversion starts with it. Text with none
   * of them is returned as it is, exactly as the converter would return it (every step of the
   * conversion only replaces text where an entry matches), without the converter's segmentation
   * and copying. Null when the dictionaries cannot be read: every text is converted then.
   */
  startsEntry: Uint8Array | null;
}

let simplifier: Simplifier | null = null;

/** Simplified Chinese for any text; simplified text and non-Chinese text pass through unchanged. */
export function toSimplified(text: string): string {
  // Built on first use: building the converter's dictionary tries takes tens of milliseconds.
  const s = (simplifier ??= buildSimplifier());
  const starts = s.startsEntry;
  if (starts !== null) {
    let found = false;
    for (let i = 0; i < text.length && !found; i++) found = starts[text.charCodeAt(i)] === 1;
    if (!found) return text;
  }
  return s.convert(text);
}

function buildSimplifier(): Simplifier {
  const convert = OpenCC.Converter({ from: 'hk', to: 'cn' });
  // Converter({from: 'hk', to: 'cn'}) runs the `hk2s` configuration (normalisation, segmentation and
  // conversion dictionaries); every first character of every entry in it is marked.
  const configs = (OpenCC.Locale as unknown as { configs?: Record<string, unknown> }).configs;
  const config = configs?.['hk2s'];
  if (config === undefined || config === null) return { convert, startsEntry: null };
  const startsEntry = new Uint8Array(0x10000);
  let entries = 0;
  const mark = (value: unknown): void => {
    if (typeof value === 'string') {
      // A dictionary is `source replacement|source replacement|…`; a pair is two strings.
      for (const entry of value.split('|')) {
        if (entry === '') continue;
        // Astral characters start with a high surrogate: marking it converts all such text.
        startsEntry[entry.charCodeAt(0)] = 1;
        entries++;
      }
    } else if (Array.isArray(value)) {
      for (const item of value) mark(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const item of Object.values(value)) mark(item);
    }
  };
  mark(config);
  return { convert, startsEntry: entries > 0 ? startsEntry : null };
}

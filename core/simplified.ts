/**
 * Traditional → simplified Chinese (繁体 → 简体) for matching, with opencc-js. Only the t2cn
 * dictionaries are imported (about a tenth of the full package), which matters for the add-in bundle.
 */
import * as OpenCC from 'opencc-js/t2cn';

interface Simplifier {
  convert: (text: string) => string;
  /**
   * Per UTF-16 unit: 1 when it is the marked character of some entry that changes text (see
   * buildSimplifier). Text with none of them is returned as it is, exactly as the converter would
   * return it, without the converter's segmentation and copying. Null when the dictionaries cannot
   * be read: every text is converted then.
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
  // conversion dictionaries). Each stage replaces text only where one of its entries occurs and
  // differs from its replacement, so text in which no such entry occurs passes every stage as it is.
  // One character of each such entry is marked: text without a marked character contains none.
  const configs = (OpenCC.Locale as unknown as { configs?: Record<string, unknown> }).configs;
  const config = configs?.['hk2s'];
  if (config === undefined || config === null) return { convert, startsEntry: null };
  const changing: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') {
      // A dictionary is `source replacement|source replacement|…`; a pair is two strings.
      for (const entry of value.split('|')) {
        const [source, replacement] = entry.split(' ');
        if (source !== undefined && source !== '' && source !== replacement) changing.push(source);
      }
    } else if (isPair(value)) {
      const [source, replacement] = value;
      if (source !== '' && source !== replacement) changing.push(source);
    } else if (Array.isArray(value)) {
      for (const item of value) collect(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const item of Object.values(value)) collect(item);
    }
  };
  collect(config);
  if (changing.length === 0) return { convert, startsEntry: null };
  // A phrase (有著, 上鍊) is marked by a character that is an entry of its own when it has one — a
  // traditional character, rare in simplified text — so that common characters (有, 上) stay
  // unmarked and most simplified names skip the converter. Astral characters count by their high
  // surrogate (marking it converts all such text).
  const single = new Set(changing.filter((source) => source.length === 1));
  const startsEntry = new Uint8Array(0x10000);
  for (const source of changing) {
    let witness = source.charCodeAt(source.length - 1);
    for (let i = 0; i < source.length; i++) {
      if (single.has(source[i]!)) {
        witness = source.charCodeAt(i);
        break;
      }
    }
    if (witness >= 0xdc00 && witness <= 0xdfff) witness = source.charCodeAt(source.length - 2);
    startsEntry[witness] = 1;
  }
  return { convert, startsEntry };
}

/** A `[source, replacement]` pair; a dictionary string always holds a space, a pair's strings none. */
function isPair(value: unknown): value is [string, string] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((v) => typeof v === 'string' && v !== '' && !v.includes(' '))
  );
}

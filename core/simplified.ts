/**
 * Traditional → simplified Chinese (繁体 → 简体) for matching, with opencc-js. Only the t2cn
 * dictionaries are imported (about a tenth of the full package), which matters for the add-in bundle.
 */
import * as OpenCC from 'opencc-js/t2cn';

let converter: ((text: string) => string) | null = null;

/** Simplified Chinese for any text; simplified text and non-Chinese text pass through unchanged. */
export function toSimplified(text: string): string {
  // Built on first use: building the converter's dictionary tries takes tens of milliseconds.
  const convert = (converter ??= OpenCC.Converter({ from: 'hk', to: 'cn' }));
  return convert(text);
}

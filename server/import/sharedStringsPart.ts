/**
 * The shared-string table (xl/sharedStrings.xml): read into an array (cells of type `s` point into
 * it by index), and extended with the text the annotated copy writes — result headers and cells,
 * the 汇总 sheet — each distinct text once, appended after the strings already there.
 */
import type { TextSink } from './zipArchive.js';
import { escapeXmlText, openedTag, withAttr, XmlFormatError, XmlScanner } from './xmlScanner.js';
import { MAX_CELL_CHARS, richText, RichTextTooLong } from './sheetXmlReader.js';
import { ImportLimitError, processImportLimits, type ImportLimits } from './importLimits.js';

/**
 * The table's strings in order, each cut to a cell's 32,767 characters (as cells are); more items
 * or a longer item than the limits allow is refused before it is kept.
 */
export function parseSharedStrings(xml: string, limits: ImportLimits = processImportLimits()): string[] {
  const strings: string[] = [];
  const s = new XmlScanner(xml, 0, limits);
  while (s.next() !== 'end') {
    if (s.kind !== 'open' || s.name !== 'si') continue;
    if (strings.length >= limits.maxSharedStrings)
      throw new ImportLimitError('maxSharedStrings', limits.maxSharedStrings, undefined, 'sharedStrings.xml');
    let text: string;
    try {
      text = richText(s, limits.maxSharedStringChars);
    } catch (err) {
      if (err instanceof RichTextTooLong)
        throw new ImportLimitError(
          'maxSharedStringChars',
          limits.maxSharedStringChars,
          err.length,
          'sharedStrings.xml',
        );
      throw err;
    }
    if (text.length > limits.maxSharedStringChars)
      throw new ImportLimitError(
        'maxSharedStringChars',
        limits.maxSharedStringChars,
        text.length,
        'sharedStrings.xml',
      );
    strings.push(text.length > MAX_CELL_CHARS ? text.slice(0, MAX_CELL_CHARS) : text);
  }
  return strings;
}

/** Text appended to a table that already holds `existing` strings; `add` gives the index to put in <v>. */
export class SharedStringsAppender {
  private readonly indexes = new Map<string, number>();
  private readonly items: string[] = [];
  /** Cells that point at an appended string (the table's `count` counts references). */
  private references = 0;

  constructor(private readonly existing: number) {}

  add(text: string): number {
    this.references++;
    let index = this.indexes.get(text);
    if (index === undefined) {
      index = this.existing + this.items.length;
      this.indexes.set(text, index);
      this.items.push(`<si>${textElement(text)}</si>`);
    }
    return index;
  }

  /** Writes the table with the appended strings: `original` extended, or a new table when there was none. */
  patch(original: string | undefined, out: TextSink): void {
    const xml =
      original ??
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"></sst>';
    const s = new XmlScanner(xml);
    while (s.next() !== 'end' && !(s.kind === 'open' && s.name === 'sst'));
    if (s.kind !== 'open') throw new XmlFormatError('sharedStrings.xml has no <sst>');
    let tag = xml.slice(s.start, s.end);
    const count = Number(s.attr('count'));
    if (Number.isInteger(count)) tag = withAttr(tag, 'count', String(count + this.references));
    tag = withAttr(tag, 'uniqueCount', String(this.existing + this.items.length));
    const close = s.selfClosing ? s.end : xml.lastIndexOf('</');
    out.write(xml.slice(0, s.start));
    out.write(s.selfClosing ? openedTag(tag) : tag);
    out.write(xml.slice(s.end, close));
    for (const item of this.items) out.write(item);
    out.write(s.selfClosing ? `</sst>${xml.slice(close)}` : xml.slice(close));
  }
}

/** A <t> element holding text as Excel reads it back exactly (whitespace kept, _xHHHH_ look-alikes escaped). */
export function textElement(text: string): string {
  const escaped = escapeXmlText(text).replace(/_(x[0-9A-Fa-f]{4}_)/g, '_x005F_$1');
  return /^\s|\s$|\n/.test(text) ? `<t xml:space="preserve">${escaped}</t>` : `<t>${escaped}</t>`;
}

/**
 * The styles part (xl/styles.xml) for the import: which cell formats show dates (so that date cells
 * read as Dates), and the formats the annotated copy adds. A cell that gets a status fill, the text
 * format or wrapping keeps everything else of its own format: one derived <xf> is appended per
 * (original format, change), with the status fills, a bold font and a bottom border appended to
 * their lists. Nothing already in the part changes, so every other cell looks exactly as before.
 */
import { FILLS, type FillName } from '../../core/annotation.js';
import { openedTag, withAttr, XmlScanner } from './xmlScanner.js';

export interface StyleChange {
  fill?: FillName | undefined;
  /** Excel's text format with the quote prefix: = + - @ text stays text even when edited. */
  inert?: boolean;
  /** Wrapped and top-aligned (the long 冲突说明 and 提示 texts). */
  wrap?: boolean;
  /** Top-aligned, the rest of the cell's alignment kept (the other cells of a row made taller). */
  top?: boolean;
}

/** A stylesheet holding only what Excel requires, for workbooks that came without one (and for CSV). */
export const DEFAULT_STYLESHEET =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
  '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>' +
  '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
  '</styleSheet>';

/** CT_Stylesheet's children in schema order (new lists must go in their place). */
const STYLESHEET_ORDER = [
  'numFmts',
  'fonts',
  'fills',
  'borders',
  'cellStyleXfs',
  'cellXfs',
  'cellStyles',
  'dxfs',
  'tableStyles',
  'colors',
  'extLst',
];
/** What a list must start with when a stylesheet lacks it (Excel reserves fills 0 and 1). */
const LIST_DEFAULTS: Record<string, string[]> = {
  fonts: ['<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'],
  fills: [
    '<fill><patternFill patternType="none"/></fill>',
    '<fill><patternFill patternType="gray125"/></fill>',
  ],
  borders: ['<border><left/><right/><top/><bottom/><diagonal/></border>'],
  cellXfs: ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'],
};
/** Built-in formats that show dates or times: 14–22, 45–47, and the East Asian 27–36 and 50–58. */
const DATE_FORMAT_IDS = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54,
  55, 56, 57, 58,
]);
/** Excel's built-in text format (@). */
const TEXT_FORMAT_ID = '49';
const HEADER_FILL = 'DDEBF7';
const FILL_NAMES = Object.keys(FILLS) as FillName[];

interface StyleList {
  start: number;
  startTagEnd: number;
  closeStart: number;
  end: number;
  selfClosing: boolean;
  items: string[];
}

interface StyleSheetLayout {
  lists: Map<string, StyleList>;
  /** Top-level children in document order, with where each starts (for inserting missing lists). */
  children: { name: string; start: number }[];
  /** Offset of </styleSheet>. */
  closeStart: number;
}

const LISTS = new Set(['numFmts', 'fonts', 'fills', 'borders', 'cellXfs']);

function layoutOf(xml: string): StyleSheetLayout {
  const s = new XmlScanner(xml);
  while (s.next() !== 'end' && !(s.kind === 'open' && s.name === 'styleSheet'));
  const layout: StyleSheetLayout = { lists: new Map(), children: [], closeStart: xml.length };
  for (;;) {
    const kind = s.next();
    if (kind === 'end') break;
    if (kind === 'close') {
      layout.closeStart = s.start;
      break;
    }
    if (kind !== 'open') continue;
    layout.children.push({ name: s.name, start: s.start });
    if (!LISTS.has(s.name) || layout.lists.has(s.name)) {
      s.skipElement();
      continue;
    }
    const list: StyleList = {
      start: s.start,
      startTagEnd: s.end,
      closeStart: s.end,
      end: s.end,
      selfClosing: s.selfClosing,
      items: [],
    };
    layout.lists.set(s.name, list);
    for (;;) {
      const k = s.next();
      if (k === 'end') break;
      if (k === 'close') {
        list.closeStart = s.start;
        list.end = s.end;
        break;
      }
      if (k !== 'open') continue;
      const itemStart = s.start;
      s.skipElement();
      list.items.push(xml.slice(itemStart, s.end));
    }
  }
  return layout;
}

/** By cell format index: whether the format shows a date or time (so the number is a date serial). */
export function readDateStyles(xml: string | undefined): boolean[] {
  if (xml === undefined) return [];
  const layout = layoutOf(xml);
  const custom = new Map<number, string>();
  for (const item of layout.lists.get('numFmts')?.items ?? []) {
    const s = new XmlScanner(item);
    s.next();
    custom.set(Number(s.attr('numFmtId')), s.attr('formatCode') ?? '');
  }
  return (layout.lists.get('cellXfs')?.items ?? []).map((item) => {
    const s = new XmlScanner(item);
    s.next();
    const id = Number(s.attr('numFmtId') ?? 0);
    const code = custom.get(id);
    return code !== undefined ? isDateFormatCode(code) : DATE_FORMAT_IDS.has(id);
  });
}

/** A format code shows a date or time when, outside quotes and [brackets], it has y m d h s (exceljs's test). */
export function isDateFormatCode(code: string): boolean {
  return /[ymdhMsb]/.test(withoutEnclosed(withoutEnclosed(code, '[', ']'), '"', '"'));
}

/**
 * `text` without its `open…close` spans (an unclosed `open` stays, as /\[[^\]]*]/g leaves it) — in
 * one pass: that pattern rescans to the end from every unclosed `[`, quadratic in a long numFmt.
 */
function withoutEnclosed(text: string, open: string, close: string): string {
  const lastClose = text.lastIndexOf(close);
  let out = '';
  let from = 0;
  for (let i = text.indexOf(open); i >= 0 && i < lastClose; i = text.indexOf(open, from)) {
    const end = text.indexOf(close, i + 1);
    out += text.slice(from, i);
    from = end + 1;
  }
  return out + text.slice(from);
}

export class StylesPatch {
  private readonly xml: string;
  private readonly layout: StyleSheetLayout;
  private readonly added = new Map<string, string[]>([
    ['fonts', []],
    ['fills', []],
    ['borders', []],
    ['cellXfs', []],
  ]);
  private readonly derived = new Map<number, number>();
  private readonly special = new Map<string, number>();
  private readonly fillIds = new Map<string, number>();
  private boldFontId: number | undefined;
  private bottomBorderId: number | undefined;
  private boxBorderId: number | undefined;

  constructor(xml: string | undefined) {
    this.xml = xml ?? DEFAULT_STYLESHEET;
    this.layout = layoutOf(this.xml);
    // A list shorter than Excel requires gets its reserved entries first, so that what is appended
    // never lands on an index (fill 0 or 1, format 0) that unstyled cells already mean.
    for (const [name, list] of this.layout.lists) {
      const required = LIST_DEFAULTS[name] ?? [];
      this.added.get(name)?.push(...required.slice(list.items.length));
    }
  }

  /** The cell format `base` with `change` applied; each distinct pair is appended once. */
  derive(base: number, change: StyleChange): number {
    // A number per (base, change): this runs for every cell of every data row.
    const fill = change.fill === undefined ? 0 : FILL_NAMES.indexOf(change.fill) + 1;
    const key =
      (((base * (FILL_NAMES.length + 1) + fill) * 2 + (change.inert === true ? 1 : 0)) * 2 +
        (change.wrap === true ? 1 : 0)) *
        2 +
      (change.top === true ? 1 : 0);
    let id = this.derived.get(key);
    if (id === undefined) {
      let xf = this.ownXf(base);
      if (change.fill !== undefined)
        xf = setXfAttrs(xf, { fillId: this.fill(FILLS[change.fill].fill), applyFill: 1 });
      if (change.inert === true)
        xf = setXfAttrs(xf, { numFmtId: TEXT_FORMAT_ID, applyNumberFormat: 1, quotePrefix: 1 });
      if (change.wrap === true) xf = wrapped(xf);
      else if (change.top === true) xf = alignedTop(xf);
      id = this.append('cellXfs', xf);
      this.derived.set(key, id);
    }
    return id;
  }

  /** Bold, a light blue fill and a thin bottom border: the header of the result columns. */
  resultHeader(): number {
    return this.cached('header', () =>
      setXfAttrs(this.ownXf(0), {
        fontId: this.boldFont(),
        fillId: this.fill(HEADER_FILL),
        borderId: this.bottomBorder(),
        applyFont: 1,
        applyFill: 1,
        applyBorder: 1,
      }),
    );
  }

  /** A legend swatch: the fill with a thin grey box (so that even the palest fill shows), text at the top. */
  swatch(fill: FillName): number {
    return this.cached(`swatch:${fill}`, () =>
      wrapped(
        setXfAttrs(this.ownXf(0), {
          fillId: this.fill(FILLS[fill].fill),
          borderId: this.boxBorder(),
          applyFill: 1,
          applyBorder: 1,
        }),
      ),
    );
  }

  /** A number centred at the top of its cell (a legend line's count, clear of the text beside it). */
  centredTop(): number {
    return this.cached('centredTop', () =>
      wrapped(this.ownXf(0)).replace(
        '<alignment vertical="top"',
        '<alignment horizontal="center" vertical="top"',
      ),
    );
  }

  /** Bold text (the head of the 汇总 table). */
  bold(): number {
    return this.cached('bold', () => setXfAttrs(this.ownXf(0), { fontId: this.boldFont(), applyFont: 1 }));
  }

  /** The stylesheet with everything appended (the original text where nothing was). */
  toXml(): string {
    const edits: { at: number; to: number; text: string }[] = [];
    for (const [name, added] of this.added) {
      if (added.length === 0) continue;
      const list = this.layout.lists.get(name);
      const count = this.items(name).length;
      if (list === undefined) {
        const text = `<${name} count="${count}">${[...LIST_DEFAULTS[name]!, ...added].join('')}</${name}>`;
        edits.push({ at: this.insertionPoint(name), to: this.insertionPoint(name), text });
        continue;
      }
      const startTag = withAttr(
        openedTag(this.xml.slice(list.start, list.startTagEnd)),
        'count',
        String(count),
      );
      if (list.selfClosing) {
        edits.push({ at: list.start, to: list.end, text: `${startTag}${added.join('')}</${name}>` });
      } else {
        edits.push({ at: list.start, to: list.startTagEnd, text: startTag });
        edits.push({ at: list.closeStart, to: list.closeStart, text: added.join('') });
      }
    }
    edits.sort((a, b) => b.at - a.at || b.to - a.to);
    let xml = this.xml;
    for (const e of edits) xml = xml.slice(0, e.at) + e.text + xml.slice(e.to);
    return xml;
  }

  /** One of the workbook's own formats (a cell pointing past them shows format 0). */
  private ownXf(index: number): string {
    const own = this.layout.lists.get('cellXfs')?.items ?? [];
    return own[index] ?? own[0] ?? LIST_DEFAULTS['cellXfs']![0]!;
  }

  private items(name: string): string[] {
    const existing = this.layout.lists.get(name)?.items ?? LIST_DEFAULTS[name] ?? [];
    const added = this.added.get(name) ?? [];
    return added.length === 0 ? existing : [...existing, ...added];
  }

  private append(name: string, item: string): number {
    const existing = this.layout.lists.get(name)?.items.length ?? LIST_DEFAULTS[name]?.length ?? 0;
    const added = this.added.get(name)!;
    added.push(item);
    return existing + added.length - 1;
  }

  private cached(key: string, make: () => string): number {
    let id = this.special.get(key);
    if (id === undefined) this.special.set(key, (id = this.append('cellXfs', make())));
    return id;
  }

  private fill(rgb: string): number {
    let id = this.fillIds.get(rgb);
    if (id === undefined) {
      id = this.append(
        'fills',
        `<fill><patternFill patternType="solid"><fgColor rgb="FF${rgb}"/><bgColor indexed="64"/></patternFill></fill>`,
      );
      this.fillIds.set(rgb, id);
    }
    return id;
  }

  /** The workbook's default font, bold: the header keeps the sheet's typeface and size. */
  private boldFont(): number {
    if (this.boldFontId === undefined) {
      const font = this.items('fonts')[0] ?? '<font></font>';
      const open = /^<font\b[^>]*?(\/?)>/.exec(font);
      const bold =
        open === null
          ? '<font><b/></font>'
          : open[1] === '/'
            ? '<font><b/></font>'
            : `<font><b/>${font.slice(open[0].length).replace(/<b\b[^>]*\/>|<b\b[^>]*>\s*<\/b>/g, '')}`;
      this.boldFontId = this.append('fonts', bold);
    }
    return this.boldFontId;
  }

  private boxBorder(): number {
    this.boxBorderId ??= this.append(
      'borders',
      '<border><left style="thin"><color rgb="FFA6A6A6"/></left><right style="thin"><color rgb="FFA6A6A6"/></right>' +
        '<top style="thin"><color rgb="FFA6A6A6"/></top><bottom style="thin"><color rgb="FFA6A6A6"/></bottom><diagonal/></border>',
    );
    return this.boxBorderId;
  }

  private bottomBorder(): number {
    this.bottomBorderId ??= this.append(
      'borders',
      '<border><left/><right/><top/><bottom style="thin"><color indexed="64"/></bottom><diagonal/></border>',
    );
    return this.bottomBorderId;
  }

  /** Where a missing list goes: before the first present child that follows it in schema order. */
  private insertionPoint(name: string): number {
    const after = new Set(STYLESHEET_ORDER.slice(STYLESHEET_ORDER.indexOf(name) + 1));
    return this.layout.children.find((c) => after.has(c.name))?.start ?? this.layout.closeStart;
  }
}

/** An <xf> with attributes set on its start tag (children kept). */
function setXfAttrs(xf: string, attrs: Record<string, string | number>): string {
  const open = /^<xf\b[^>]*?\/?>/.exec(xf)![0];
  let tag = open;
  for (const [name, value] of Object.entries(attrs)) tag = withAttr(tag, name, String(value));
  return tag + xf.slice(open.length);
}

/** An <xf> aligned to the top, its other alignment (horizontal, wrapping, indent) kept. */
function alignedTop(xf: string): string {
  const withApply = setXfAttrs(xf, { applyAlignment: 1 });
  const alignment = /<alignment\b[^>]*?\/?>/.exec(withApply);
  if (alignment !== null) {
    return (
      withApply.slice(0, alignment.index) +
      withAttr(alignment[0], 'vertical', 'top') +
      withApply.slice(alignment.index + alignment[0].length)
    );
  }
  const open = /^<xf\b[^>]*?(\/?)>/.exec(withApply)!;
  if (open[1] === '/') return `${openedTag(open[0])}<alignment vertical="top"/></xf>`;
  return `${open[0]}<alignment vertical="top"/>${withApply.slice(open[0].length)}`;
}

/** An <xf> wrapping its text from the top: its <alignment> replaced (children stay in schema order). */
function wrapped(xf: string): string {
  const withApply = setXfAttrs(xf, { applyAlignment: 1 });
  const open = /^<xf\b[^>]*?(\/?)>/.exec(withApply)!;
  const children = open[1] === '/' ? '' : withApply.slice(open[0].length).replace(/<\/xf>\s*$/, '');
  const rest = children.replace(/<alignment\b[^>]*\/>|<alignment\b[^>]*>[\s\S]*?<\/alignment>/, '');
  const tag = open[1] === '/' ? openedTag(open[0]) : open[0];
  return `${tag}<alignment vertical="top" wrapText="1"/>${rest}</xf>`;
}

/**
 * An .xlsx as an Open Packaging Conventions package: parts by name (read from the archive on
 * demand, replaced or added as text), their relationships, and [Content_Types].xml. Parts never
 * replaced go back into the written archive exactly as they came, still compressed.
 */
import zlib from 'node:zlib';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './importLimits.js';
import {
  escapeXmlAttr,
  openedTag,
  prologHasDoctype,
  withAttr,
  xmlForPatching,
  xmlFromBytes,
  XmlFormatError,
  XmlScanner,
} from './xmlScanner.js';
import {
  DeflatingWriter,
  inflateEntry,
  readZip,
  writeZip,
  ZipFormatError,
  type ZipEntry,
  type ZipItem,
} from './zipArchive.js';

const RELATIONSHIP_TYPES = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
export const REL = {
  officeDocument: `${RELATIONSHIP_TYPES}/officeDocument`,
  worksheet: `${RELATIONSHIP_TYPES}/worksheet`,
  sharedStrings: `${RELATIONSHIP_TYPES}/sharedStrings`,
  styles: `${RELATIONSHIP_TYPES}/styles`,
  comments: `${RELATIONSHIP_TYPES}/comments`,
  vmlDrawing: `${RELATIONSHIP_TYPES}/vmlDrawing`,
  vbaProject: 'http://schemas.microsoft.com/office/2006/relationships/vbaProject',
} as const;

export const CONTENT_TYPE = {
  workbook: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
  worksheet: 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml',
  sharedStrings: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml',
  styles: 'application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml',
  comments: 'application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml',
  vmlDrawing: 'application/vnd.openxmlformats-officedocument.vmlDrawing',
} as const;

const CONTENT_TYPES_PART = '[Content_Types].xml';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

export interface Relationship {
  id: string;
  type: string;
  /** The part it points at (resolved to a name in the package); the raw target when external. */
  target: string;
  external: boolean;
}

export class XlsxPackage {
  /** Part names in archive order, and each by lower-case name (OPC names are case-insensitive). */
  private readonly order: string[] = [];
  private readonly byLowerName = new Map<string, string>();
  private readonly entries = new Map<string, ZipEntry>();
  /** Parts replaced or added: their text, or the writer their text is streamed into. */
  private readonly texts = new Map<string, string | DeflatingWriter>();

  private constructor() {}

  /**
   * The package in a ZIP archive; throws ZipFormatError when the archive is unusable, XmlFormatError
   * when a markup part declares a DTD, ImportLimitError when it crosses a limit. Entries whose names
   * are not part names (`../x`, `/etc/x`, `C:\x`, control characters) are left out: no part can
   * point at them, and they are never carried into an annotated copy.
   */
  static fromZip(bytes: Uint8Array, limits: ImportLimits = DEFAULT_IMPORT_LIMITS): XlsxPackage {
    const pkg = new XlsxPackage();
    for (const entry of readZip(bytes, limits)) {
      if (!isSafePartName(entry.name)) continue;
      if (pkg.byLowerName.has(entry.name.toLowerCase())) continue;
      if (MARKUP_PART.test(entry.name) && declaresDoctype(entry))
        throw new XmlFormatError(`${entry.name} declares a document type (<!DOCTYPE>)`);
      pkg.register(entry.name);
      pkg.entries.set(entry.name, entry);
    }
    return pkg;
  }

  /** A package built from texts (a CSV's rows made a workbook). */
  static fromParts(parts: Record<string, string>): XlsxPackage {
    const pkg = new XlsxPackage();
    for (const [name, text] of Object.entries(parts)) pkg.put(name, text);
    return pkg;
  }

  has(name: string): boolean {
    return this.byLowerName.has(name.toLowerCase());
  }

  /** A part's text (as replaced, or as the archive holds it), undefined when there is no such part. */
  text(name: string): string | undefined {
    const actual = this.byLowerName.get(name.toLowerCase());
    if (actual === undefined) return undefined;
    const replaced = this.texts.get(actual);
    if (replaced instanceof DeflatingWriter) throw new Error(`${actual} is being written`);
    if (replaced !== undefined) return replaced;
    return xmlFromBytes(inflateEntry(this.entries.get(actual)!));
  }

  /** A part's text ready to be patched and put back (UTF-8, default namespace). */
  textForPatching(name: string): string | undefined {
    const text = this.text(name);
    return text === undefined ? undefined : xmlForPatching(text);
  }

  /** Replaces a part's text, or adds the part. */
  put(name: string, text: string): void {
    const actual = this.byLowerName.get(name.toLowerCase()) ?? this.register(name);
    this.texts.set(actual, text);
  }

  /** Replaces a part (or adds it) with text written piece by piece into the returned writer. */
  write(name: string): DeflatingWriter {
    const actual = this.byLowerName.get(name.toLowerCase()) ?? this.register(name);
    const writer = new DeflatingWriter();
    this.texts.set(actual, writer);
    return writer;
  }

  /** Takes a part out of the package, with its relationships. */
  remove(name: string): void {
    for (const part of [name, relationshipsPartOf(name)]) {
      const actual = this.byLowerName.get(part.toLowerCase());
      if (actual === undefined) continue;
      this.byLowerName.delete(part.toLowerCase());
      this.order.splice(this.order.indexOf(actual), 1);
      this.entries.delete(actual);
      this.texts.delete(actual);
    }
  }

  /** Removes a relationship of `part` by id. */
  removeRelationship(part: string, id: string): void {
    const relsPart = relationshipsPartOf(part);
    const xml = this.textForPatching(relsPart);
    if (xml === undefined) return;
    const s = new XmlScanner(xml);
    while (s.next() !== 'end') {
      if (s.kind !== 'open' || s.name !== 'Relationship' || s.attr('Id') !== id) continue;
      const start = s.start;
      s.skipElement();
      this.put(relsPart, xml.slice(0, start) + xml.slice(s.end));
      return;
    }
  }

  /** The first name `make(n)` (n = 1, 2, …) that no part has. */
  freeName(make: (n: number) => string): string {
    for (let n = 1; ; n++) if (!this.has(make(n))) return make(n);
  }

  relationships(part: string): Relationship[] {
    const xml = this.text(relationshipsPartOf(part));
    if (xml === undefined) return [];
    const out: Relationship[] = [];
    const s = new XmlScanner(xml);
    while (s.next() !== 'end') {
      if (s.kind !== 'open' || s.name !== 'Relationship') continue;
      const id = s.attr('Id');
      const type = s.attr('Type');
      const target = s.attr('Target');
      if (id === undefined || type === undefined || target === undefined) continue;
      const external = s.attr('TargetMode') === 'External';
      out.push({ id, type, target: external ? target : resolveTarget(part, target), external });
    }
    return out;
  }

  /** Adds a relationship from `part` to `targetPart`; returns its id. */
  addRelationship(part: string, type: string, targetPart: string): string {
    const relsPart = relationshipsPartOf(part);
    const existing = this.relationships(part);
    const ids = new Set(existing.map((r) => r.id));
    let n = existing.length + 1;
    while (ids.has(`rId${n}`)) n++;
    const id = `rId${n}`;
    const element = `<Relationship Id="${id}" Type="${type}" Target="${escapeXmlAttr(relativeTarget(part, targetPart))}"/>`;
    const xml =
      this.textForPatching(relsPart) ??
      `${XML_DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>`;
    this.put(relsPart, insertBeforeClose(xml, 'Relationships', element));
    return id;
  }

  /** Declares a part's content type ([Content_Types].xml Override), replacing one declared before. */
  setContentType(partName: string, contentType: string): void {
    const xml = this.contentTypes();
    const s = new XmlScanner(xml);
    while (s.next() !== 'end') {
      if (s.kind !== 'open' || s.name !== 'Override') continue;
      if (s.attr('PartName')?.toLowerCase() !== `/${partName}`.toLowerCase()) continue;
      if (s.attr('ContentType') === contentType) return;
      const tag = withAttr(xml.slice(s.start, s.end), 'ContentType', contentType);
      this.put(CONTENT_TYPES_PART, xml.slice(0, s.start) + tag + xml.slice(s.end));
      return;
    }
    const element = `<Override PartName="/${escapeXmlAttr(partName)}" ContentType="${contentType}"/>`;
    this.put(CONTENT_TYPES_PART, insertBeforeClose(xml, 'Types', element));
  }

  /** Declares the content type of every part with an extension (a Default), unless already declared. */
  addDefaultContentType(extension: string, contentType: string): void {
    const xml = this.contentTypes();
    const s = new XmlScanner(xml);
    while (s.next() !== 'end') {
      if (s.kind === 'open' && s.name === 'Default' && s.attr('Extension')?.toLowerCase() === extension)
        return;
    }
    const element = `<Default Extension="${extension}" ContentType="${contentType}"/>`;
    // Defaults come first in [Content_Types].xml, as Excel writes them.
    const open = /<Types\b[^>]*>/.exec(xml);
    this.put(
      CONTENT_TYPES_PART,
      open
        ? xml.slice(0, open.index + open[0].length) + element + xml.slice(open.index + open[0].length)
        : xml,
    );
  }

  /** The archive: parts in their original order (untouched ones copied compressed), new parts last. */
  toBuffer(): Buffer {
    const items = this.order.map((name): ZipItem => {
      const text = this.texts.get(name);
      if (text === undefined) return { entry: this.entries.get(name)! };
      const writer = typeof text === 'string' ? writerOf(text) : text;
      return { name, deflated: writer.finish() };
    });
    return writeZip(items);
  }

  private contentTypes(): string {
    return (
      this.textForPatching(CONTENT_TYPES_PART) ??
      `${XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"></Types>`
    );
  }

  private register(name: string): string {
    this.order.push(name);
    this.byLowerName.set(name.toLowerCase(), name);
    return name;
  }
}

/** Parts holding markup a reader of the annotated copy parses (and so would expand a DTD of). */
const MARKUP_PART = /\.(xml|rels|vml|svg)$/i;
/** Compressed bytes inflated to look at a part's prolog (at most ~1,000× as many come out). */
const PROLOG_PROBE_BYTES = 512;

/** A part name as OPC allows: relative segments, no `.`/`..`, no backslash, drive or control character. */
export function isSafePartName(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name)) return false;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return false;
  // A folder entry (`_rels/`, as some zip tools write) ends with its slash.
  const path = name.endsWith('/') ? name.slice(0, -1) : name;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/**
 * Whether a markup part's prolog declares a DTD: its first bytes inflated (all of it only when a
 * long prolog hides the root element beyond them; its size is within the limits by then).
 */
function declaresDoctype(entry: ZipEntry): boolean {
  let head: Uint8Array;
  try {
    head =
      entry.method === 8
        ? zlib.inflateRawSync(entry.data.subarray(0, PROLOG_PROBE_BYTES), {
            finishFlush: zlib.constants.Z_SYNC_FLUSH,
          })
        : entry.data.subarray(0, PROLOG_PROBE_BYTES * 64);
  } catch {
    return false; // a damaged stream is found when (and if) the part is read
  }
  const found = prologHasDoctype(xmlFromBytes(head));
  if (found !== undefined) return found;
  try {
    return prologHasDoctype(xmlFromBytes(inflateEntry(entry))) ?? false;
  } catch (err) {
    if (err instanceof ZipFormatError) return false;
    throw err;
  }
}

function writerOf(text: string): DeflatingWriter {
  const writer = new DeflatingWriter();
  writer.write(text);
  return writer;
}

/** `xl/worksheets/sheet1.xml` → `xl/worksheets/_rels/sheet1.xml.rels`; the package itself ('') → `_rels/.rels`. */
export function relationshipsPartOf(part: string): string {
  const slash = part.lastIndexOf('/');
  return `${part.slice(0, slash + 1)}_rels/${part.slice(slash + 1)}.rels`;
}

/** A relationship's target as a part name: absolute (`/xl/…`) or relative to the source part's folder. */
export function resolveTarget(source: string, target: string): string {
  let decoded = target;
  try {
    decoded = decodeURIComponent(target);
  } catch {
    // A stray % is a literal character then.
  }
  const base = decoded.startsWith('/') ? [] : source.split('/').slice(0, -1);
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') base.pop();
    else base.push(segment);
  }
  return base.join('/');
}

/** The target to write in `source`'s relationships for `target` (relative, as Excel writes them). */
export function relativeTarget(source: string, target: string): string {
  const from = source.split('/').slice(0, -1);
  const to = target.split('/');
  let common = 0;
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) common++;
  return [...Array<string>(from.length - common).fill('..'), ...to.slice(common)].join('/');
}

/** Inserts `element` before the closing tag of the root element `root` (opening a self-closed one). */
export function insertBeforeClose(xml: string, root: string, element: string): string {
  const close = xml.lastIndexOf(`</${root}>`);
  if (close >= 0) return xml.slice(0, close) + element + xml.slice(close);
  // A self-closed element, found by the scanner (a pattern over the tag is quadratic in its spaces).
  const s = new XmlScanner(xml);
  while (s.next() !== 'end') {
    if (s.kind !== 'open' || s.name !== root || !s.selfClosing) continue;
    const tag = xml.slice(s.start, s.end);
    return `${xml.slice(0, s.start)}${openedTag(tag)}${element}</${tag.slice(1, tag.search(/[\s/>]/))}>${xml.slice(s.end)}`;
  }
  throw new XmlFormatError(`no <${root}> element`);
}

export { XML_DECLARATION };

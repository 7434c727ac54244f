/**
 * A CSV's records as a one-sheet workbook package, so that its annotated copy is written by the
 * same patcher as an .xlsx's: every non-empty field a text cell (nothing evaluated, a phone stays
 * its digits), in a shared-string table the annotations are appended to. The sheet is named after
 * the file, as Excel names the sheet of a CSV it opens, and its columns are as wide as their text.
 */
import { columnLetter } from './cellReference.js';
import { textElement } from './sharedStringsPart.js';
import { CONTENT_TYPE, REL, XML_DECLARATION, XlsxPackage } from './xlsxPackage.js';
import { DEFAULT_STYLESHEET } from './stylesPatch.js';
import { textWidth } from './wrappedLines.js';
import { escapeXmlAttr } from './xmlScanner.js';

/** The sheet name when the file name leaves nothing usable. */
export const CSV_SHEET_NAME = 'Sheet1';
export const CSV_SHEET_PART = 'xl/worksheets/sheet1.xml';
/** Excel's longest sheet name, in characters. */
const MAX_SHEET_NAME = 31;
/** Columns are as wide as their text in the first rows (header and a sample), within these bounds. */
const WIDTH_SAMPLE_ROWS = 200;
const MIN_COLUMN_WIDTH = 8;
const MAX_COLUMN_WIDTH = 30;
/** Characters Excel refuses in a sheet name. */
const SHEET_NAME_FORBIDDEN = /[[\]:*?/\\]/g;

/**
 * A file's name as a sheet name, under Excel's rules: no folder or extension, none of [ ] : * ? / \,
 * no apostrophe at either end, at most 31 characters (whole characters: a surrogate pair is never
 * cut), not Excel's reserved "History"; `Sheet1` when nothing is left.
 */
export function sheetNameOfFile(fileName: string): string {
  const base = fileName.split(/[/\\]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  const stem = dot >= 0 ? base.slice(0, dot) : base;
  // Control characters (a tab, a line feed) are not allowed either.
  let name = [...stem.replace(SHEET_NAME_FORBIDDEN, '_')]
    .map((ch) => (ch.charCodeAt(0) < 0x20 ? '_' : ch))
    .join('')
    .trim();
  name = [...name].slice(0, MAX_SHEET_NAME).join('');
  name = name.replace(/^'+|'+$/g, '').trim();
  if (name === '') return CSV_SHEET_NAME;
  return name.toLowerCase() === 'history' ? `${name}_` : name;
}

export function workbookOfRecords(
  records: readonly (readonly string[])[],
  sheetName = CSV_SHEET_NAME,
): {
  pkg: XlsxPackage;
  sharedStrings: string[];
} {
  const sharedStrings: string[] = [];
  const indexes = new Map<string, number>();
  const rows: string[] = [];
  let width = 0;
  let references = 0;
  const widths: number[] = [];
  records.forEach((record, i) => {
    const cells: string[] = [];
    record.forEach((field, c) => {
      if (field === '') return;
      if (i < WIDTH_SAMPLE_ROWS) widths[c] = Math.max(widths[c] ?? 0, textWidth(field));
      let index = indexes.get(field);
      if (index === undefined) {
        index = sharedStrings.push(field) - 1;
        indexes.set(field, index);
      }
      cells.push(`<c r="${columnLetter(c + 1)}${i + 1}" t="s"><v>${index}</v></c>`);
      references++;
      width = Math.max(width, c + 1);
    });
    if (cells.length > 0) rows.push(`<row r="${i + 1}">${cells.join('')}</row>`);
  });
  const dimension = width > 0 && records.length > 0 ? `A1:${columnLetter(width)}${records.length}` : 'A1';
  const cols = Array.from({ length: width }, (_, c) => {
    const w = Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, Math.ceil((widths[c] ?? 0) + 2)));
    return `<col min="${c + 1}" max="${c + 1}" width="${w}" customWidth="1"/>`;
  });
  const main = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  const sharedStringsXml =
    `${XML_DECLARATION}<sst xmlns="${main}" count="${references}" uniqueCount="${sharedStrings.length}">` +
    sharedStrings.map((s) => `<si>${textElement(s)}</si>`).join('') +
    '</sst>';
  const relationships = 'http://schemas.openxmlformats.org/package/2006/relationships';
  const pkg = XlsxPackage.fromParts({
    '[Content_Types].xml':
      `${XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
      `<Override PartName="/${CSV_SHEET_PART}" ContentType="${CONTENT_TYPE.worksheet}"/>` +
      `<Override PartName="/xl/styles.xml" ContentType="${CONTENT_TYPE.styles}"/>` +
      `<Override PartName="/xl/sharedStrings.xml" ContentType="${CONTENT_TYPE.sharedStrings}"/>` +
      '</Types>',
    '_rels/.rels':
      `${XML_DECLARATION}<Relationships xmlns="${relationships}">` +
      `<Relationship Id="rId1" Type="${REL.officeDocument}" Target="xl/workbook.xml"/></Relationships>`,
    'xl/workbook.xml':
      `${XML_DECLARATION}<workbook xmlns="${main}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
      `<bookViews><workbookView/></bookViews><sheets><sheet name="${escapeXmlAttr(sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    'xl/_rels/workbook.xml.rels':
      `${XML_DECLARATION}<Relationships xmlns="${relationships}">` +
      `<Relationship Id="rId1" Type="${REL.worksheet}" Target="worksheets/sheet1.xml"/>` +
      `<Relationship Id="rId2" Type="${REL.styles}" Target="styles.xml"/>` +
      `<Relationship Id="rId3" Type="${REL.sharedStrings}" Target="sharedStrings.xml"/></Relationships>`,
    'xl/styles.xml': DEFAULT_STYLESHEET,
    'xl/sharedStrings.xml': sharedStringsXml,
    [CSV_SHEET_PART]:
      `${XML_DECLARATION}<worksheet xmlns="${main}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
      `<dimension ref="${dimension}"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>` +
      `<sheetFormatPr defaultRowHeight="15"/>${cols.length > 0 ? `<cols>${cols.join('')}</cols>` : ''}` +
      `<sheetData>${rows.join('')}</sheetData>` +
      '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>',
  });
  return { pkg, sharedStrings };
}

/**
 * A CSV's records as a one-sheet workbook package, so that its annotated copy is written by the
 * same patcher as an .xlsx's: every non-empty field a text cell (nothing evaluated, a phone stays
 * its digits), in a shared-string table the annotations are appended to.
 */
import { columnLetter } from './cellReference.js';
import { textElement } from './sharedStringsPart.js';
import { CONTENT_TYPE, REL, XML_DECLARATION, XlsxPackage } from './xlsxPackage.js';
import { DEFAULT_STYLESHEET } from './stylesPatch.js';
import { escapeXmlAttr } from './xmlScanner.js';

export const CSV_SHEET_NAME = 'Sheet1';
export const CSV_SHEET_PART = 'xl/worksheets/sheet1.xml';

export function workbookOfRecords(records: readonly (readonly string[])[]): {
  pkg: XlsxPackage;
  sharedStrings: string[];
} {
  const sharedStrings: string[] = [];
  const indexes = new Map<string, number>();
  const rows: string[] = [];
  let width = 0;
  let references = 0;
  records.forEach((record, i) => {
    const cells: string[] = [];
    record.forEach((field, c) => {
      if (field === '') return;
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
      `<bookViews><workbookView/></bookViews><sheets><sheet name="${escapeXmlAttr(CSV_SHEET_NAME)}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
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
      `<sheetFormatPr defaultRowHeight="15"/><sheetData>${rows.join('')}</sheetData>` +
      '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>',
  });
  return { pkg, sharedStrings };
}

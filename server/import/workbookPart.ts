/**
 * The workbook part (xl/workbook.xml) and what hangs off it: the worksheets in tab order with
 * their parts, the date system, the shared-string and styles parts — and adding a worksheet.
 */
import { CONTENT_TYPE, REL, insertBeforeClose, type XlsxPackage } from './xlsxPackage.js';
import { declaresRelationshipPrefix, escapeXmlAttr, XmlScanner } from './xmlScanner.js';

export interface WorksheetEntry {
  name: string;
  /** Part name of the sheet's XML, e.g. xl/worksheets/sheet1.xml. */
  part: string;
}

export interface WorkbookInfo {
  part: string;
  /** Worksheets in tab order (chart and dialog sheets left out). */
  sheets: WorksheetEntry[];
  /** Serial numbers count from 1904-01-01 (old Mac Excel). */
  date1904: boolean;
  sharedStringsPart: string | undefined;
  stylesPart: string | undefined;
}

/** The workbook's structure; undefined when the package holds no workbook. */
export function readWorkbookInfo(pkg: XlsxPackage): WorkbookInfo | undefined {
  const office = pkg.relationships('').find((r) => r.type === REL.officeDocument && !r.external);
  const part = office && pkg.has(office.target) ? office.target : 'xl/workbook.xml';
  const xml = pkg.text(part);
  if (xml === undefined) return undefined;
  const rels = pkg.relationships(part);
  const worksheets = new Map(rels.filter((r) => r.type === REL.worksheet).map((r) => [r.id, r.target]));
  const sheets: WorksheetEntry[] = [];
  let date1904 = false;
  const s = new XmlScanner(xml);
  while (s.next() !== 'end') {
    if (s.kind !== 'open') continue;
    if (s.name === 'workbookPr') {
      const flag = s.attr('date1904');
      date1904 = flag === '1' || flag === 'true';
    } else if (s.name === 'sheet') {
      const name = s.attr('name');
      const id = s.attr('id');
      const target = id === undefined ? undefined : worksheets.get(id);
      if (name !== undefined && target !== undefined) sheets.push({ name, part: target });
    }
  }
  return {
    part,
    sheets,
    date1904,
    sharedStringsPart: rels.find((r) => r.type === REL.sharedStrings)?.target,
    stylesPart: rels.find((r) => r.type === REL.styles)?.target,
  };
}

/** Adds a worksheet after the others: its part, relationship, <sheet> entry and content type. */
export function addWorksheet(pkg: XlsxPackage, workbook: WorkbookInfo, name: string, sheetXml: string): void {
  const part = pkg.freeName((n) => `xl/worksheets/sheet${n}.xml`);
  pkg.put(part, sheetXml);
  const id = pkg.addRelationship(workbook.part, REL.worksheet, part);
  pkg.setContentType(part, CONTENT_TYPE.worksheet);
  const xml = pkg.textForPatching(workbook.part)!;
  let sheetId = 0;
  const s = new XmlScanner(xml);
  while (s.next() !== 'end') {
    if (s.kind === 'open' && s.name === 'sheet') sheetId = Math.max(sheetId, Number(s.attr('sheetId')) || 0);
  }
  const ns = declaresRelationshipPrefix(xml)
    ? ''
    : ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
  const element = `<sheet name="${escapeXmlAttr(name)}" sheetId="${sheetId + 1}"${ns} r:id="${id}"/>`;
  pkg.put(workbook.part, insertBeforeClose(xml, 'sheets', element));
  workbook.sheets.push({ name, part });
}

/**
 * A macro-enabled workbook or a template made a plain workbook (.xlsx, which the copy is named):
 * its main part's content type set to a workbook's and its VBA project dropped — what Excel does
 * when such a file is saved as .xlsx. Excel refuses to open an .xlsx that declares macros.
 */
export function asPlainWorkbook(pkg: XlsxPackage, workbook: WorkbookInfo): void {
  pkg.setContentType(workbook.part, CONTENT_TYPE.workbook);
  for (const rel of pkg.relationships(workbook.part)) {
    if (rel.type !== REL.vbaProject) continue;
    pkg.removeRelationship(workbook.part, rel.id);
    if (!rel.external) pkg.remove(rel.target);
  }
}

/** `base`, or `base2`, `base3`… — the first not taken by a sheet (Excel compares names without case). */
export function uniqueSheetName(workbook: WorkbookInfo, base: string): string {
  const taken = new Set(workbook.sheets.map((s) => s.name.toLowerCase()));
  let name = base;
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base}${i}`;
  return name;
}

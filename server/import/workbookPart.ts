/**
 * The workbook part (xl/workbook.xml) and what hangs off it: the worksheets in tab order with
 * their parts, the date system, the shared-string and styles parts — and adding a worksheet and
 * a sheet's print titles.
 */
import { CONTENT_TYPE, REL, insertBeforeClose, type XlsxPackage } from './xlsxPackage.js';
import { declaresRelationshipPrefix, escapeXmlAttr, escapeXmlText, XmlScanner } from './xmlScanner.js';

export interface WorksheetEntry {
  name: string;
  /** Part name of the sheet's XML, e.g. xl/worksheets/sheet1.xml. */
  part: string;
  /** Hidden or very hidden in Excel (state="hidden" / "veryHidden"): the user does not see its tab. */
  hidden?: true;
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
      const state = s.attr('state');
      const hidden = state === 'hidden' || state === 'veryHidden';
      if (name !== undefined && target !== undefined)
        sheets.push({ name, part: target, ...(hidden ? { hidden: true as const } : {}) });
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

/** CT_Workbook's children that follow <definedNames> (ECMA-376 order): a new list goes before the first. */
const AFTER_DEFINED_NAMES = new Set([
  'calcPr',
  'oleSize',
  'customWorkbookViews',
  'pivotCaches',
  'smartTagPr',
  'smartTagTypes',
  'webPublishing',
  'fileRecoveryPr',
  'webPublishObjects',
  'extLst',
]);
const PRINT_TITLES = '_xlnm.Print_Titles';

/**
 * Rows `top`–`bottom` of a worksheet printed at the top of every page: the built-in defined name
 * _xlnm.Print_Titles, scoped to the sheet by localSheetId (its 0-based position among all <sheet>
 * elements, chart sheets included). A sheet that already has print titles keeps its own.
 */
export function setPrintTitles(
  pkg: XlsxPackage,
  workbook: WorkbookInfo,
  sheetPart: string,
  top: number,
  bottom: number,
): void {
  const xml = pkg.textForPatching(workbook.part);
  if (xml === undefined) return;
  const targets = new Map(pkg.relationships(workbook.part).map((r) => [r.id, r.target]));
  let index = -1;
  let sheetName = '';
  let list: { start: number; end: number; closeStart: number | undefined } | undefined;
  let before: number | undefined;
  const s = new XmlScanner(xml);
  while (s.next() !== 'end' && !(s.kind === 'open' && s.name === 'workbook'));
  for (;;) {
    const kind = s.next();
    if (kind === 'end') break;
    if (kind === 'close') {
      before ??= s.start; // </workbook>
      break;
    }
    if (kind !== 'open') continue;
    const start = s.start;
    if (s.name !== 'sheets' && s.name !== 'definedNames') {
      if (AFTER_DEFINED_NAMES.has(s.name)) before ??= start;
      s.skipElement();
      continue;
    }
    const container = s.name;
    const selfClosing = s.selfClosing;
    let position = 0;
    for (let k = s.next(); k !== 'end' && !(k === 'close' && s.name === container); k = s.next()) {
      if (k !== 'open') continue;
      const child: string = s.name;
      if (child === 'sheet') {
        const id = s.attr('id');
        if (id !== undefined && targets.get(id) === sheetPart) {
          index = position;
          sheetName = s.attr('name') ?? '';
        }
        position++;
      } else if (
        child === 'definedName' &&
        s.attr('name') === PRINT_TITLES &&
        s.attr('localSheetId') === String(index)
      ) {
        return;
      }
      s.skipElement();
    }
    if (container === 'definedNames')
      list = { start, end: s.end, closeStart: selfClosing ? undefined : s.start };
  }
  if (index < 0) return;
  const reference = `'${sheetName.replace(/'/g, "''")}'!$${top}:$${bottom}`;
  const element = `<definedName name="${PRINT_TITLES}" localSheetId="${index}">${escapeXmlText(reference)}</definedName>`;
  let patched: string;
  if (list === undefined) {
    const at = before ?? xml.length;
    patched = `${xml.slice(0, at)}<definedNames>${element}</definedNames>${xml.slice(at)}`;
  } else if (list.closeStart === undefined) {
    patched = `${xml.slice(0, list.start)}<definedNames>${element}</definedNames>${xml.slice(list.end)}`;
  } else {
    patched = xml.slice(0, list.closeStart) + element + xml.slice(list.closeStart);
  }
  pkg.put(workbook.part, patched);
}

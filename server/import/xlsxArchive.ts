/**
 * Small surgery on .xlsx archives (zip of XML parts) for what exceljs cannot do itself: find a
 * sheet's part by name, and take a sheet's <dataValidations> out or put it back in schema order.
 */
import { strFromU8 } from 'fflate';

/** Sheet name → path of its XML in the archive, from workbook.xml and its relationships. */
export function sheetPathsByName(files: Record<string, Uint8Array>): Map<string, string> {
  const workbook = strFromU8(files['xl/workbook.xml']!);
  const relsFile = files['xl/_rels/workbook.xml.rels'];
  const rels = relsFile ? strFromU8(relsFile) : '';
  const targets = new Map<string, string>();
  for (const m of rels.matchAll(/<Relationship\b[^>]*>/g)) {
    const id = /\bId="([^"]+)"/.exec(m[0])?.[1];
    const target = /\bTarget="([^"]+)"/.exec(m[0])?.[1];
    if (id && target)
      targets.set(id, target.startsWith('/') ? target.slice(1) : `xl/${target.replace(/^\.\//, '')}`);
  }
  const out = new Map<string, string>();
  for (const m of workbook.matchAll(/<sheet\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(m[0])?.[1];
    const rid = /\br:id="([^"]+)"/.exec(m[0])?.[1] ?? /\bid="([^"]+)"/.exec(m[0])?.[1];
    const target = rid ? targets.get(rid) : undefined;
    if (name !== undefined && target) out.set(decodeXmlAttr(name), target);
  }
  return out;
}

export function cutDataValidations(xml: string): { xml: string; removed: string } {
  const pattern = /<dataValidations\b[^>]*\/>|<dataValidations\b[\s\S]*?<\/dataValidations>/;
  const m = pattern.exec(xml);
  if (!m) return { xml, removed: '' };
  return { xml: xml.slice(0, m.index) + xml.slice(m.index + m[0].length), removed: m[0] };
}

function decodeXmlAttr(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Elements that must follow <dataValidations> in a worksheet (ECMA-376 CT_Worksheet order). */
const AFTER_DATA_VALIDATIONS = [
  'hyperlinks',
  'printOptions',
  'pageMargins',
  'pageSetup',
  'headerFooter',
  'rowBreaks',
  'colBreaks',
  'customProperties',
  'cellWatches',
  'ignoredErrors',
  'smartTags',
  'drawing',
  'legacyDrawing',
  'legacyDrawingHF',
  'picture',
  'oleObjects',
  'controls',
  'webPublishItems',
  'tableParts',
  'extLst',
];

export function insertDataValidations(sheetXml: string, part: string): string {
  let at = sheetXml.lastIndexOf('</worksheet>');
  for (const name of AFTER_DATA_VALIDATIONS) {
    const i = sheetXml.search(new RegExp(`<${name}[\\s/>]`));
    if (i >= 0 && i < at) at = i;
  }
  return sheetXml.slice(0, at) + part + sheetXml.slice(at);
}

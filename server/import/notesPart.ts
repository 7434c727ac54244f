/**
 * Notes on cells (Excel's legacy comments), written as Excel writes them: the text in
 * xl/commentsN.xml, the yellow boxes in a VML drawing (xl/drawings/vmlDrawingN.vml), both related
 * from the sheet, which points at the drawing with <legacyDrawing r:id>. A sheet that already has
 * notes keeps them: ours are added to its parts (a cell that had a note gets ours appended to it).
 * VML is not always well-formed XML (Excel writes <br>), so it is only ever appended to, never parsed.
 */
import { cellAddress } from './cellReference.js';
import { textElement } from './sharedStringsPart.js';
import { CONTENT_TYPE, REL, XML_DECLARATION, insertBeforeClose, type XlsxPackage } from './xlsxPackage.js';
import { XmlScanner } from './xmlScanner.js';

export interface CellNote {
  row: number;
  column: number;
  text: string;
}

/** Who the notes are from, as Excel shows it in the note's tooltip. */
const AUTHOR = '报备';
/** Shape ids come in blocks of 1,024 per drawing (<o:idmap data> lists the blocks a drawing uses). */
const SHAPES_PER_BLOCK = 1024;
const NOTE_RUN_PROPERTIES =
  '<rPr><sz val="9"/><color indexed="81"/><rFont val="宋体"/><family val="3"/><charset val="134"/></rPr>';

/**
 * Adds the notes to the sheet's comments and VML drawing (creating them when it has none). Returns
 * the id of the sheet's relationship to the drawing, which its <legacyDrawing> must name.
 */
export function addNotes(pkg: XlsxPackage, sheetPart: string, notes: readonly CellNote[]): string {
  const rels = pkg.relationships(sheetPart);
  const commentsRel = rels.find((r) => r.type === REL.comments && !r.external && pkg.has(r.target));
  const vmlRel = rels.find((r) => r.type === REL.vmlDrawing && !r.external && pkg.has(r.target));

  let fresh: readonly CellNote[] = notes;
  if (commentsRel) {
    const merged = mergeComments(pkg.textForPatching(commentsRel.target)!, notes);
    pkg.put(commentsRel.target, merged.xml);
    fresh = merged.added;
  } else {
    const part = pkg.freeName((n) => `xl/comments${n}.xml`);
    pkg.put(part, commentsXml(notes));
    pkg.addRelationship(sheetPart, REL.comments, part);
    pkg.setContentType(part, CONTENT_TYPE.comments);
  }

  if (vmlRel) {
    pkg.put(vmlRel.target, appendShapes(pkg.text(vmlRel.target)!, fresh));
    return vmlRel.id;
  }
  const part = pkg.freeName((n) => `xl/drawings/vmlDrawing${n}.vml`);
  pkg.put(part, vmlXml(notes));
  pkg.addDefaultContentType('vml', CONTENT_TYPE.vmlDrawing);
  return pkg.addRelationship(sheetPart, REL.vmlDrawing, part);
}

function commentsXml(notes: readonly CellNote[]): string {
  return (
    `${XML_DECLARATION}<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
    `<authors><author>${AUTHOR}</author></authors><commentList>` +
    notes.map((n) => commentXml(n, 0)).join('') +
    '</commentList></comments>'
  );
}

function commentXml(note: CellNote, authorId: number): string {
  return (
    `<comment ref="${cellAddress(note.row, note.column)}" authorId="${authorId}">` +
    `<text><r>${NOTE_RUN_PROPERTIES}${textElement(note.text)}</r></text></comment>`
  );
}

/**
 * Existing comments with ours added: appended to the note a cell already has, or as new comments.
 * Returns the notes that became new comments (they need a shape in the drawing).
 */
function mergeComments(xml: string, notes: readonly CellNote[]): { xml: string; added: CellNote[] } {
  const authors: string[] = [];
  /** By cell reference: where the runs of its note's <text> end. */
  const textEnds = new Map<string, number>();
  const s = new XmlScanner(xml);
  let ref: string | undefined;
  while (s.next() !== 'end') {
    if (s.kind === 'open' && s.name === 'author') authors.push(s.innerText());
    else if (s.kind === 'open' && s.name === 'comment') ref = s.attr('ref')?.toUpperCase();
    else if (s.kind === 'open' && s.name === 'text' && ref !== undefined && !s.selfClosing) {
      s.skipElement();
      textEnds.set(ref, s.start);
      ref = undefined;
    }
  }
  const inserts: { at: number; text: string }[] = [];
  const added: CellNote[] = [];
  for (const note of notes) {
    const at = textEnds.get(cellAddress(note.row, note.column));
    if (at !== undefined)
      inserts.push({ at, text: `<r>${NOTE_RUN_PROPERTIES}${textElement(`\n${note.text}`)}</r>` });
    else added.push(note);
  }
  inserts.sort((a, b) => b.at - a.at);
  let out = xml;
  for (const { at, text } of inserts) out = out.slice(0, at) + text + out.slice(at);
  if (added.length > 0) {
    let authorId = authors.indexOf(AUTHOR);
    if (authorId < 0) {
      authorId = authors.length;
      out = out.includes('</authors>')
        ? insertBeforeClose(out, 'authors', `<author>${AUTHOR}</author>`)
        : out.replace(/<authors\b[^>]*\/>/, `<authors><author>${AUTHOR}</author></authors>`);
    }
    const comments = added.map((n) => commentXml(n, authorId)).join('');
    out = /<commentList\b[^>]*\/>/.test(out)
      ? out.replace(/<commentList\b[^>]*\/>/, `<commentList>${comments}</commentList>`)
      : insertBeforeClose(out, 'commentList', comments);
  }
  return { xml: out, added };
}

function vmlXml(notes: readonly CellNote[]): string {
  const ids = shapeIds(SHAPES_PER_BLOCK, notes.length);
  return (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" ' +
    'xmlns:x="urn:schemas-microsoft-com:office:excel">' +
    `<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="${blocksOf(ids).join(',')}"/></o:shapelayout>` +
    NOTE_SHAPE_TYPE +
    notes.map((n, i) => shapeXml(n, ids[i]!, i + 1)).join('') +
    '</xml>'
  );
}

const NOTE_SHAPE_TYPE =
  '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">' +
  '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>';

/** A drawing that already exists, with shapes for the new notes appended (ids after its own). */
function appendShapes(vml: string, notes: readonly CellNote[]): string {
  if (notes.length === 0) return vml;
  let last = SHAPES_PER_BLOCK;
  for (const m of vml.matchAll(/_x0000_s(\d+)/g)) last = Math.max(last, Number(m[1]));
  const ids = shapeIds(last, notes.length);
  const zBase = (vml.match(/<v:shape\b/g) ?? []).length;
  let out = vml.includes('id="_x0000_t202"') ? vml : insertAtEnd(vml, NOTE_SHAPE_TYPE);
  out = insertAtEnd(out, notes.map((n, i) => shapeXml(n, ids[i]!, zBase + i + 1)).join(''));
  // The drawing's id map must cover the blocks the new ids fall into.
  return out.replace(
    /(<o:idmap\b[^>]*\bdata=")([^"]*)(")/,
    (_, open: string, data: string, close: string) => {
      const blocks = new Set(
        data
          .split(',')
          .map((b) => b.trim())
          .filter((b) => b !== ''),
      );
      for (const b of blocksOf(ids)) blocks.add(String(b));
      return `${open}${[...blocks].join(',')}${close}`;
    },
  );
}

function insertAtEnd(vml: string, text: string): string {
  const close = vml.lastIndexOf('</xml>');
  return close < 0 ? vml + text : vml.slice(0, close) + text + vml.slice(close);
}

function shapeIds(after: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => after + 1 + i);
}

function blocksOf(ids: readonly number[]): number[] {
  return [...new Set(ids.map((id) => Math.floor(id / SHAPES_PER_BLOCK)))];
}

/** The hidden yellow box of one note, anchored beside its cell (rows and columns 0-based in VML). */
function shapeXml(note: CellNote, id: number, z: number): string {
  const row = note.row - 1;
  const column = note.column - 1;
  const top = Math.max(row - 1, 0);
  const anchor = `${column + 1}, 15, ${top}, 10, ${column + 3}, 15, ${top + 4}, 4`;
  return (
    `<v:shape id="_x0000_s${id}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;` +
    `margin-top:1.5pt;width:108pt;height:59.25pt;z-index:${z};visibility:hidden" fillcolor="#ffffe1" ` +
    'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>' +
    '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">' +
    '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/>' +
    `<x:SizeWithCells/><x:Anchor>${anchor}</x:Anchor><x:AutoFill>False</x:AutoFill>` +
    `<x:Row>${row}</x:Row><x:Column>${column}</x:Column></x:ClientData></v:shape>`
  );
}

/**
 * Developer metadata as Sheets exposes it: where an item sits now (its row moves, its location
 * follows), PROJECT items visible only to the Cloud project that made them, and DataFilters
 * (developerMetadataLookup, a1Range, gridRange) as used by developerMetadata.search,
 * updateDeveloperMetadata and deleteDeveloperMetadata.
 */
import { sheetsError } from './fakeGoogleErrors.js';
import {
  resolveGridRange,
  type FakeSpreadsheet,
  type GridRange,
  type Json,
  type JsonObject,
  type LocatedMetadata,
  type MetadataHolder,
  type SheetModel,
  type StoredMetadata,
} from './fakeGoogleModel.js';
import { resolveRange } from './fakeGoogleValues.js';

export function locationJson(holder: MetadataHolder): JsonObject {
  switch (holder.type) {
    case 'SPREADSHEET':
      return { locationType: 'SPREADSHEET', spreadsheet: true };
    case 'SHEET':
      return { locationType: 'SHEET', sheetId: holder.sheet.sheetId };
    case 'ROW':
    case 'COLUMN':
      return {
        locationType: holder.type,
        dimensionRange: {
          sheetId: holder.sheet.sheetId,
          dimension: holder.type === 'ROW' ? 'ROWS' : 'COLUMNS',
          startIndex: holder.index,
          endIndex: holder.index + 1,
        },
      };
  }
}

export function metadataJson(m: LocatedMetadata): JsonObject {
  const out: JsonObject = {
    metadataId: m.meta.metadataId,
    metadataKey: m.meta.metadataKey,
    location: locationJson(m.holder),
    visibility: m.meta.visibility,
  };
  if (m.meta.metadataValue !== undefined) out['metadataValue'] = m.meta.metadataValue;
  return out;
}

export function visibleTo(meta: StoredMetadata, project: string): boolean {
  return meta.visibility === 'DOCUMENT' || meta.project === project;
}

/** The cells a location covers, for "intersecting" matches. */
interface Area {
  sheetId: number | undefined; // undefined: every sheet (the spreadsheet)
  startRow: number;
  endRow: number;
  startColumn: number;
  endColumn: number;
}

function holderArea(holder: MetadataHolder): Area {
  const all = { startRow: 0, endRow: Infinity, startColumn: 0, endColumn: Infinity };
  switch (holder.type) {
    case 'SPREADSHEET':
      return { sheetId: undefined, ...all };
    case 'SHEET':
      return { sheetId: holder.sheet.sheetId, ...all };
    case 'ROW':
      return { sheetId: holder.sheet.sheetId, ...all, startRow: holder.index, endRow: holder.index + 1 };
    case 'COLUMN':
      return {
        sheetId: holder.sheet.sheetId,
        ...all,
        startColumn: holder.index,
        endColumn: holder.index + 1,
      };
  }
}

function intersects(a: Area, b: Area): boolean {
  if (a.sheetId !== undefined && b.sheetId !== undefined && a.sheetId !== b.sheetId) return false;
  return (
    a.startRow < b.endRow &&
    b.startRow < a.endRow &&
    a.startColumn < b.endColumn &&
    b.startColumn < a.endColumn
  );
}

function sameHolder(a: MetadataHolder, b: MetadataHolder): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'SPREADSHEET') return true;
  if (a.type === 'SHEET') return b.type === 'SHEET' && a.sheet.sheetId === b.sheet.sheetId;
  return (
    (b.type === 'ROW' || b.type === 'COLUMN') && a.sheet.sheetId === b.sheet.sheetId && a.index === b.index
  );
}

function asObject(v: Json | undefined, where: string): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw sheetsError(400, `Invalid value at '${where}': expected an object`);
  return v;
}

function sheetOf(book: FakeSpreadsheet, sheetId: Json | undefined, where: string): SheetModel {
  const id = sheetId === undefined ? 0 : sheetId;
  if (typeof id !== 'number' || !Number.isInteger(id))
    throw sheetsError(400, `Invalid value at '${where}.sheetId'`);
  const sheet = book.sheetById(id);
  if (sheet === undefined) throw sheetsError(400, `No grid with id: ${id}`);
  return sheet;
}

/**
 * A DeveloperMetadataLocation given in a request, as a holder. Row and column locations must name
 * exactly one row or column: Sheets does not attach metadata to spans.
 */
export function holderFromLocation(
  book: FakeSpreadsheet,
  raw: Json | undefined,
  where: string,
): MetadataHolder {
  const loc = asObject(raw, where);
  const kinds = ['spreadsheet', 'sheetId', 'dimensionRange'].filter((k) => loc[k] !== undefined);
  if (kinds.length !== 1)
    throw sheetsError(400, `${where} must specify exactly one of spreadsheet, sheetId or dimensionRange`);
  if (loc['spreadsheet'] !== undefined) {
    if (loc['spreadsheet'] !== true) throw sheetsError(400, `${where}.spreadsheet must be true`);
    return { type: 'SPREADSHEET' };
  }
  if (loc['sheetId'] !== undefined) return { type: 'SHEET', sheet: sheetOf(book, loc['sheetId'], where) };
  const dr = asObject(loc['dimensionRange'], `${where}.dimensionRange`);
  const sheet = sheetOf(book, dr['sheetId'], `${where}.dimensionRange`);
  const dimension = dr['dimension'];
  if (dimension !== 'ROWS' && dimension !== 'COLUMNS')
    throw sheetsError(400, `${where}.dimensionRange.dimension must be ROWS or COLUMNS`);
  const start = dr['startIndex'];
  const end = dr['endIndex'];
  if (typeof start !== 'number' || typeof end !== 'number' || end - start !== 1) {
    throw sheetsError(
      400,
      `${where}.dimensionRange must represent a single row or column; it cannot be unbounded or span multiple rows or columns`,
    );
  }
  const limit = dimension === 'ROWS' ? sheet.rowCount : sheet.columnCount;
  if (start < 0 || end > limit) {
    throw sheetsError(
      400,
      `${where}.dimensionRange [${start}, ${end}) is outside the sheet (${limit} ${dimension === 'ROWS' ? 'rows' : 'columns'})`,
    );
  }
  return { type: dimension === 'ROWS' ? 'ROW' : 'COLUMN', sheet, index: start };
}

/** The area a location given in a lookup covers; a lookup's dimensionRange may span many rows. */
function lookupArea(
  book: FakeSpreadsheet,
  raw: Json | undefined,
  where: string,
): { area: Area; exact?: MetadataHolder } {
  const loc = asObject(raw, where);
  if (loc['spreadsheet'] === true)
    return { area: holderArea({ type: 'SPREADSHEET' }), exact: { type: 'SPREADSHEET' } };
  if (loc['sheetId'] !== undefined) {
    const sheet = sheetOf(book, loc['sheetId'], where);
    return { area: holderArea({ type: 'SHEET', sheet }), exact: { type: 'SHEET', sheet } };
  }
  const dr = asObject(loc['dimensionRange'], `${where}.dimensionRange`);
  const sheet = sheetOf(book, dr['sheetId'], `${where}.dimensionRange`);
  const rows = dr['dimension'] === 'ROWS';
  const start = typeof dr['startIndex'] === 'number' ? dr['startIndex'] : 0;
  const end = typeof dr['endIndex'] === 'number' ? dr['endIndex'] : Infinity;
  const area: Area = rows
    ? { sheetId: sheet.sheetId, startRow: start, endRow: end, startColumn: 0, endColumn: Infinity }
    : { sheetId: sheet.sheetId, startRow: 0, endRow: Infinity, startColumn: start, endColumn: end };
  const exact: MetadataHolder | undefined =
    end - start === 1 ? { type: rows ? 'ROW' : 'COLUMN', sheet, index: start } : undefined;
  return exact === undefined ? { area } : { area, exact };
}

function gridArea(book: FakeSpreadsheet, raw: Json | undefined, where: string): Area {
  const g = asObject(raw, where);
  const sheet = sheetOf(book, g['sheetId'], where);
  const r = resolveGridRange(sheet, g as unknown as GridRange);
  return { sheetId: sheet.sheetId, ...r };
}

/** A predicate for one DataFilter over the metadata visible to `project`. */
export function compileFilter(
  book: FakeSpreadsheet,
  rawFilter: Json | undefined,
  where: string,
): (m: LocatedMetadata) => boolean {
  const filter = asObject(rawFilter, where);
  const kinds = Object.keys(filter);
  if (kinds.length !== 1)
    throw sheetsError(
      400,
      `${where} must specify exactly one of developerMetadataLookup, a1Range or gridRange`,
    );
  if (filter['a1Range'] !== undefined) {
    const text = filter['a1Range'];
    if (typeof text !== 'string') throw sheetsError(400, `Invalid value at '${where}.a1Range'`);
    const r = resolveRange(book, text);
    const area: Area = {
      sheetId: r.sheet.sheetId,
      startRow: r.startRow,
      endRow: r.endRow ?? r.sheet.rowCount,
      startColumn: r.startColumn,
      endColumn: r.endColumn ?? r.sheet.columnCount,
    };
    return (m) => intersects(holderArea(m.holder), area);
  }
  if (filter['gridRange'] !== undefined) {
    const area = gridArea(book, filter['gridRange'], `${where}.gridRange`);
    return (m) => intersects(holderArea(m.holder), area);
  }
  if (filter['developerMetadataLookup'] === undefined)
    throw sheetsError(400, `${where}: unknown data filter ${kinds[0] ?? ''}`);
  const lookup = asObject(filter['developerMetadataLookup'], `${where}.developerMetadataLookup`);
  const tests: ((m: LocatedMetadata) => boolean)[] = [];
  const {
    metadataId,
    metadataKey,
    metadataValue,
    visibility,
    locationType,
    metadataLocation,
    locationMatchingStrategy,
  } = lookup;
  if (metadataId !== undefined) tests.push((m) => m.meta.metadataId === metadataId);
  if (metadataKey !== undefined) tests.push((m) => m.meta.metadataKey === metadataKey);
  if (metadataValue !== undefined) tests.push((m) => m.meta.metadataValue === metadataValue);
  if (visibility !== undefined) tests.push((m) => m.meta.visibility === visibility);
  if (locationType !== undefined) tests.push((m) => m.holder.type === locationType);
  if (locationMatchingStrategy !== undefined && metadataLocation === undefined) {
    throw sheetsError(
      400,
      `${where}.developerMetadataLookup: a metadataLocation must be specified with locationMatchingStrategy`,
    );
  }
  if (metadataLocation !== undefined) {
    const { area, exact } = lookupArea(
      book,
      metadataLocation,
      `${where}.developerMetadataLookup.metadataLocation`,
    );
    // Google's default strategy is INTERSECTING_LOCATION.
    if (locationMatchingStrategy === 'EXACT_LOCATION')
      tests.push((m) => exact !== undefined && sameHolder(m.holder, exact));
    else tests.push((m) => intersects(holderArea(m.holder), area));
  }
  return (m) => tests.every((t) => t(m));
}

/** developerMetadata.search: the metadata matching any filter, each with the filters it matched. */
export function searchMetadata(book: FakeSpreadsheet, filters: Json[], project: string): JsonObject {
  const compiled = filters.map((f, i) => ({ raw: f, test: compileFilter(book, f, `dataFilters[${i}]`) }));
  const matched: Json[] = [];
  for (const m of book.allMetadata()) {
    if (!visibleTo(m.meta, project)) continue;
    const hits = compiled.filter((c) => c.test(m)).map((c) => c.raw);
    if (hits.length > 0) matched.push({ developerMetadata: metadataJson(m), dataFilters: hits });
  }
  return matched.length === 0 ? {} : { matchedDeveloperMetadata: matched };
}

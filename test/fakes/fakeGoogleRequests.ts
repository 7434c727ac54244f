/**
 * spreadsheets.batchUpdate: the Request kinds the sync uses, applied in order to a draft (a later
 * request sees what an earlier one did), each validated the way Sheets validates it and failing
 * as `Invalid requests[i].kind: …`. Kinds Sheets has but the fake does not model answer 501 rather
 * than pretending to work.
 */
import { FakeGoogleError, invalidRequest, notImplementedByFake, sheetsError } from './fakeGoogleErrors.js';
import { applyUpdateMask, FieldMaskError, parseFieldMask, type FieldTree } from './fakeGoogleFields.js';
import {
  checkInGrid,
  MAX_CELL_CHARS,
  resolveGridRange,
  type CellData,
  type Dimension,
  type FakeSpreadsheet,
  type GridRange,
  type Json,
  type JsonObject,
  type SheetModel,
  type StoredMetadata,
} from './fakeGoogleModel.js';
import { compileFilter, holderFromLocation, metadataJson, visibleTo } from './fakeGoogleMetadata.js';

export interface ApplyContext {
  book: FakeSpreadsheet;
  /** The caller's identity (email) and Cloud project. */
  who: string;
  project: string;
  /** Whether row metadata moves with sorted rows (see FakeGoogleOptions.rowMetadataFollowsSort). */
  rowMetadataFollowsSort: boolean;
  metadataCharsPerLocation: number;
}

type Handler = (
  body: JsonObject,
  ctx: ApplyContext,
  fail: (message: string) => FakeGoogleError,
) => JsonObject | undefined;

const CELL_FIELDS = new Set(['userEnteredValue', 'userEnteredFormat', 'note', 'dataValidation']);
const UNMODELLED_CELL_FIELDS = new Set([
  'textFormatRuns',
  'hyperlink',
  'pivotTable',
  'dataSourceTable',
  'dataSourceFormula',
  'chipRuns',
]);

/** Request kinds Sheets defines that this fake does not model. */
const UNMODELLED_KINDS = new Set([
  'updateSpreadsheetProperties',
  'updateDimensionProperties',
  'updateNamedRange',
  'updateBorders',
  'updateEmbeddedObjectPosition',
  'updateConditionalFormatRule',
  'updateFilterView',
  'updateBanding',
  'updateProtectedRange',
  'updateChartSpec',
  'updateSlicerSpec',
  'updateDimensionGroup',
  'updateDataSource',
  'updateEmbeddedObjectBorder',
  'updateTable',
  'addSheet',
  'addNamedRange',
  'addChart',
  'addConditionalFormatRule',
  'addFilterView',
  'addBanding',
  'addDimensionGroup',
  'addSlicer',
  'addDataSource',
  'addTable',
  'deleteSheet',
  'deleteNamedRange',
  'deleteConditionalFormatRule',
  'deleteEmbeddedObject',
  'deleteFilterView',
  'deleteBanding',
  'deleteDimensionGroup',
  'deleteDuplicates',
  'deleteDataSource',
  'deleteTable',
  'deleteRange',
  'duplicateSheet',
  'duplicateFilterView',
  'findReplace',
  'insertRange',
  'moveDimension',
  'autoFill',
  'cutPaste',
  'copyPaste',
  'mergeCells',
  'unmergeCells',
  'setBasicFilter',
  'clearBasicFilter',
  'appendCells',
  'textToColumns',
  'autoResizeDimensions',
  'pasteData',
  'randomizeRange',
  'trimWhitespace',
  'refreshDataSource',
  'cancelDataSourceRefresh',
]);

function int(
  v: Json | undefined,
  fail: (m: string) => FakeGoogleError,
  what: string,
  optional = false,
): number | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw fail(`${what} must be an integer`);
  return v;
}

function obj(v: Json | undefined, fail: (m: string) => FakeGoogleError, what: string): JsonObject {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v))
    throw fail(`${what} is required`);
  return v;
}

/** GridRange → sheet and box; sheetId defaults to 0 as in the proto. */
function gridBox(book: FakeSpreadsheet, raw: Json | undefined, fail: (m: string) => FakeGoogleError) {
  const g = obj(raw, fail, 'range');
  const sheetId = int(g['sheetId'] ?? 0, fail, 'range.sheetId') as number;
  const sheet = book.sheetById(sheetId);
  if (sheet === undefined) throw fail(`No grid with id: ${sheetId}`);
  const range: GridRange = { sheetId };
  for (const k of ['startRowIndex', 'endRowIndex', 'startColumnIndex', 'endColumnIndex'] as const) {
    const v = int(g[k], fail, `range.${k}`, true);
    if (v !== undefined) {
      if (v < 0) throw fail(`range.${k} must be non-negative`);
      range[k] = v;
    }
  }
  const box = resolveGridRange(sheet, range);
  if (box.startRow > box.endRow || box.startColumn > box.endColumn)
    throw fail('range start must not be after its end');
  try {
    checkInGrid(sheet, box);
  } catch (e) {
    if (e instanceof FakeGoogleError) throw fail(e.body.error.message);
    throw e;
  }
  return { sheet, box, range };
}

function fieldMask(raw: Json | undefined, fail: (m: string) => FakeGoogleError): FieldTree {
  if (typeof raw !== 'string' || raw.trim() === '') throw fail('At least one field must be specified.');
  try {
    return parseFieldMask(raw);
  } catch (e) {
    if (e instanceof FieldMaskError) throw fail(e.message);
    throw e;
  }
}

function checkCellMask(tree: FieldTree, fail: (m: string) => FakeGoogleError): void {
  for (const key of tree.keys()) {
    if (key === '*' || CELL_FIELDS.has(key)) continue;
    if (UNMODELLED_CELL_FIELDS.has(key)) throw notImplementedByFake(`the CellData field ${key}`);
    throw fail(`Invalid field mask: ${key} is not a field of CellData`);
  }
}

function checkColor(v: Json | undefined, fail: (m: string) => FakeGoogleError, what: string): void {
  if (v === undefined) return;
  const c = obj(v, fail, what);
  for (const [k, x] of Object.entries(c)) {
    if (!['red', 'green', 'blue', 'alpha'].includes(k)) throw fail(`${what}: unknown field ${k}`);
    if (typeof x !== 'number' || x < 0 || x > 1) throw fail(`${what}.${k} must be between 0 and 1`);
  }
}

/** Validates a CellData the way Sheets rejects malformed ones. */
function checkCellData(raw: Json | undefined, fail: (m: string) => FakeGoogleError, what: string): CellData {
  const cell = raw === undefined ? {} : obj(raw, fail, what);
  for (const key of Object.keys(cell)) {
    if (
      !CELL_FIELDS.has(key) &&
      !UNMODELLED_CELL_FIELDS.has(key) &&
      key !== 'effectiveValue' &&
      key !== 'formattedValue'
    ) {
      throw fail(`Unknown name "${key}" at '${what}': Cannot find field.`);
    }
  }
  const v = cell['userEnteredValue'];
  if (v !== undefined) {
    const value = obj(v, fail, `${what}.userEnteredValue`);
    const kinds = Object.keys(value);
    if (
      kinds.length !== 1 ||
      !['numberValue', 'stringValue', 'boolValue', 'formulaValue', 'errorValue'].includes(kinds[0] as string)
    ) {
      throw fail(`${what}.userEnteredValue must set exactly one value`);
    }
    const s = value['stringValue'];
    if (typeof s === 'string' && s.length > MAX_CELL_CHARS) {
      throw fail(
        `Your input contains more than the maximum of ${MAX_CELL_CHARS} characters in a single cell.`,
      );
    }
  }
  const fmt = cell['userEnteredFormat'];
  if (fmt !== undefined) {
    const f = obj(fmt, fail, `${what}.userEnteredFormat`);
    checkColor(f['backgroundColor'], fail, `${what}.userEnteredFormat.backgroundColor`);
    const style = f['backgroundColorStyle'];
    if (style !== undefined)
      checkColor(
        obj(style, fail, 'backgroundColorStyle')['rgbColor'],
        fail,
        `${what}.userEnteredFormat.backgroundColorStyle.rgbColor`,
      );
  }
  if (cell['note'] !== undefined && typeof cell['note'] !== 'string')
    throw fail(`${what}.note must be a string`);
  if (cell['dataValidation'] !== undefined) checkValidationRule(cell['dataValidation'], fail);
  // effectiveValue and formattedValue are output-only: Sheets ignores them on input.
  const { effectiveValue: _e, formattedValue: _f, ...input } = cell;
  return input as unknown as CellData;
}

const CONDITION_TYPES = new Set([
  'NUMBER_GREATER',
  'NUMBER_GREATER_THAN_EQ',
  'NUMBER_LESS',
  'NUMBER_LESS_THAN_EQ',
  'NUMBER_EQ',
  'NUMBER_NOT_EQ',
  'NUMBER_BETWEEN',
  'NUMBER_NOT_BETWEEN',
  'TEXT_CONTAINS',
  'TEXT_NOT_CONTAINS',
  'TEXT_STARTS_WITH',
  'TEXT_ENDS_WITH',
  'TEXT_EQ',
  'TEXT_IS_EMAIL',
  'TEXT_IS_URL',
  'DATE_EQ',
  'DATE_BEFORE',
  'DATE_AFTER',
  'DATE_ON_OR_BEFORE',
  'DATE_ON_OR_AFTER',
  'DATE_BETWEEN',
  'DATE_NOT_BETWEEN',
  'DATE_IS_VALID',
  'ONE_OF_RANGE',
  'ONE_OF_LIST',
  'BLANK',
  'NOT_BLANK',
  'CUSTOM_FORMULA',
  'BOOLEAN',
  'TEXT_NOT_EQ',
  'DATE_NOT_EQ',
  'FILTER_EXPRESSION',
]);
const NO_VALUES = new Set(['TEXT_IS_EMAIL', 'TEXT_IS_URL', 'DATE_IS_VALID', 'BLANK', 'NOT_BLANK']);
/**
 * Condition types the ConditionType reference lists for conditional formatting and filters only
 * (BLANK, NOT_BLANK, TEXT_STARTS_WITH, TEXT_ENDS_WITH) or for filters on data source objects only
 * (TEXT_NOT_EQ, DATE_NOT_EQ, FILTER_EXPRESSION): a data-validation rule with one is refused.
 */
const NOT_FOR_VALIDATION = new Set([
  'BLANK',
  'NOT_BLANK',
  'TEXT_STARTS_WITH',
  'TEXT_ENDS_WITH',
  'TEXT_NOT_EQ',
  'DATE_NOT_EQ',
  'FILTER_EXPRESSION',
]);
const RULE_FIELDS = new Set(['condition', 'inputMessage', 'strict', 'showCustomUi']);

/** Unknown JSON names are refused before any request runs, as Google's JSON parser does. */
function knownFields(
  o: JsonObject,
  known: ReadonlySet<string>,
  fail: (m: string) => FakeGoogleError,
  what: string,
): void {
  for (const k of Object.keys(o))
    if (!known.has(k)) throw fail(`Unknown name "${k}" at '${what}': Cannot find field.`);
}

function optionalType(
  v: Json | undefined,
  type: 'boolean' | 'string',
  fail: (m: string) => FakeGoogleError,
  what: string,
): void {
  if (v !== undefined && typeof v !== type)
    throw fail(`Invalid value at '${what}' (TYPE_${type.toUpperCase()})`);
}

function checkValidationRule(raw: Json | undefined, fail: (m: string) => FakeGoogleError): JsonObject {
  const rule = obj(raw, fail, 'rule');
  knownFields(rule, RULE_FIELDS, fail, 'rule');
  optionalType(rule['strict'], 'boolean', fail, 'rule.strict');
  optionalType(rule['showCustomUi'], 'boolean', fail, 'rule.showCustomUi');
  optionalType(rule['inputMessage'], 'string', fail, 'rule.inputMessage');
  const condition = obj(rule['condition'], fail, 'rule.condition');
  const type = condition['type'];
  if (typeof type !== 'string' || !CONDITION_TYPES.has(type))
    throw fail(`Invalid value at 'rule.condition.type', ${JSON.stringify(type ?? null)}`);
  if (NOT_FOR_VALIDATION.has(type)) throw fail(`Invalid data validation rule: ${type} is not supported`);
  const values = condition['values'];
  if (values !== undefined && !Array.isArray(values)) throw fail('rule.condition.values must be a list');
  for (const [i, v] of (values ?? []).entries()) {
    const value = obj(v, fail, `rule.condition.values[${i}]`);
    // "Relative dates are not supported in data validation."
    if (value['relativeDate'] !== undefined)
      throw fail('relativeDate values are not supported in data validation');
    if (typeof value['userEnteredValue'] !== 'string')
      throw fail(`rule.condition.values[${i}].userEnteredValue must be set`);
  }
  const count = Array.isArray(values) ? values.length : 0;
  if (NO_VALUES.has(type) && count > 0) throw fail(`${type} condition must not have values`);
  if (
    (type === 'ONE_OF_LIST' ||
      type === 'ONE_OF_RANGE' ||
      type === 'CUSTOM_FORMULA' ||
      type.startsWith('TEXT_EQ')) &&
    count === 0
  ) {
    throw fail(`Invalid ConditionValue for ${type}: ${type} condition requires at least one value`);
  }
  if (type.endsWith('_BETWEEN') && count !== 2) throw fail(`${type} condition requires exactly two values`);
  return rule;
}

function forEachCell(
  box: { startRow: number; endRow: number; startColumn: number; endColumn: number },
  f: (r: number, c: number) => void,
): void {
  for (let r = box.startRow; r < box.endRow; r++)
    for (let c = box.startColumn; c < box.endColumn; c++) f(r, c);
}

function guardProtection(
  ctx: ApplyContext,
  sheet: SheetModel,
  box: { startRow: number; endRow: number; startColumn: number; endColumn: number },
  fail: (m: string) => FakeGoogleError,
): void {
  if (ctx.book.blockingProtection(sheet, box, ctx.who) !== undefined) {
    throw fail(
      'You are trying to edit a protected cell or object. Please contact the spreadsheet owner to remove protection if you need to edit.',
    );
  }
}

const repeatCell: Handler = (body, ctx, fail) => {
  const { sheet, box } = gridBox(ctx.book, body['range'], fail);
  const tree = fieldMask(body['fields'], fail);
  checkCellMask(tree, fail);
  const cell = checkCellData(body['cell'], fail, 'cell');
  guardProtection(ctx, sheet, box, fail);
  forEachCell(box, (r, c) =>
    ctx.book.setCell(sheet, r, c, applyUpdateMask(ctx.book.cell(sheet, r, c), cell, tree)),
  );
  return undefined;
};

const updateCells: Handler = (body, ctx, fail) => {
  const tree = fieldMask(body['fields'], fail);
  checkCellMask(tree, fail);
  const rows = body['rows'] ?? [];
  if (!Array.isArray(rows)) throw fail('rows must be a list');
  const data = rows.map((row, i) => {
    const values = obj(row, fail, `rows[${i}]`)['values'] ?? [];
    if (!Array.isArray(values)) throw fail(`rows[${i}].values must be a list`);
    return values.map((v, j) => checkCellData(v ?? undefined, fail, `rows[${i}].values[${j}]`));
  });
  if ((body['start'] === undefined) === (body['range'] === undefined))
    throw fail('Exactly one of start or range must be set');
  let sheet: SheetModel;
  let box: { startRow: number; endRow: number; startColumn: number; endColumn: number };
  const width = data.reduce((w, r) => Math.max(w, r.length), 0);
  if (body['start'] !== undefined) {
    const start = obj(body['start'], fail, 'start');
    const sheetId = int(start['sheetId'] ?? 0, fail, 'start.sheetId') as number;
    const s = ctx.book.sheetById(sheetId);
    if (s === undefined) throw fail(`No grid with id: ${sheetId}`);
    sheet = s;
    const row = int(start['rowIndex'] ?? 0, fail, 'start.rowIndex') as number;
    const col = int(start['columnIndex'] ?? 0, fail, 'start.columnIndex') as number;
    box = { startRow: row, endRow: row + data.length, startColumn: col, endColumn: col + width };
    try {
      checkInGrid(sheet, box);
    } catch (e) {
      if (e instanceof FakeGoogleError) throw fail(e.body.error.message);
      throw e;
    }
  } else {
    ({ sheet, box } = gridBox(ctx.book, body['range'], fail));
    if (data.length > box.endRow - box.startRow || width > box.endColumn - box.startColumn)
      throw fail('rows do not fit in range');
  }
  guardProtection(ctx, sheet, box, fail);
  // Inside a `range`, cells the rows leave out have the masked fields cleared, as documented.
  forEachCell(box, (r, c) => {
    const source = data[r - box.startRow]?.[c - box.startColumn] ?? {};
    ctx.book.setCell(sheet, r, c, applyUpdateMask(ctx.book.cell(sheet, r, c), source, tree));
  });
  return undefined;
};

const setDataValidation: Handler = (body, ctx, fail) => {
  knownFields(body, new Set(['range', 'rule', 'filteredRowsIncluded']), fail, 'setDataValidation');
  optionalType(body['filteredRowsIncluded'], 'boolean', fail, 'filteredRowsIncluded');
  const { sheet, box } = gridBox(ctx.book, body['range'], fail);
  const rule = body['rule'] === undefined ? undefined : checkValidationRule(body['rule'], fail);
  guardProtection(ctx, sheet, box, fail);
  forEachCell(box, (r, c) => {
    const cell: CellData = { ...(ctx.book.cell(sheet, r, c) ?? {}) };
    if (rule === undefined) delete cell.dataValidation;
    else cell.dataValidation = structuredClone(rule);
    ctx.book.setCell(sheet, r, c, cell);
  });
  return undefined;
};

const PROTECTED_RANGE_FIELDS = new Set([
  'protectedRangeId',
  'range',
  'namedRangeId',
  'tableId',
  'description',
  'warningOnly',
  'requestingUserCanEdit',
  'unprotectedRanges',
  'editors',
]);

/** A GridRange with no index set: the whole sheet ("a protected sheet"). */
function isWholeSheet(range: JsonObject): boolean {
  return ['startRowIndex', 'endRowIndex', 'startColumnIndex', 'endColumnIndex'].every(
    (k) => range[k] === undefined,
  );
}

const addProtectedRange: Handler = (body, ctx, fail) => {
  const pr = obj(body['protectedRange'], fail, 'protectedRange');
  knownFields(pr, PROTECTED_RANGE_FIELDS, fail, 'protectedRange');
  optionalType(pr['warningOnly'], 'boolean', fail, 'protectedRange.warningOnly');
  optionalType(pr['description'], 'string', fail, 'protectedRange.description');
  // "When writing, only one of range or named_range_id or table_id may be set."
  const targets = ['range', 'namedRangeId', 'tableId'].filter((k) => pr[k] !== undefined);
  if (targets.length > 1) throw fail('Only one of range, namedRangeId or tableId may be set.');
  if (targets.length === 0) throw fail('A range, namedRangeId or tableId is required.');
  if (targets[0] !== 'range') throw notImplementedByFake(`protected ${targets[0] ?? ''}`);
  const unprotected = pr['unprotectedRanges'];
  if (unprotected !== undefined) {
    // "Unprotected ranges are only supported on protected sheets."
    if (!isWholeSheet(obj(pr['range'], fail, 'protectedRange.range')))
      throw fail('Unprotected ranges are only supported on protected sheets.');
    if (!Array.isArray(unprotected)) throw fail('protectedRange.unprotectedRanges must be a list');
    if (unprotected.length > 0) throw notImplementedByFake('unprotectedRanges in a protected sheet');
  }
  const { sheet, range } = gridBox(ctx.book, pr['range'], fail);
  const warningOnly = pr['warningOnly'] === true;
  const editorsRaw = pr['editors'];
  if (warningOnly && editorsRaw !== undefined)
    throw fail('Editors are not supported with warningOnly protection.');
  let id = int(pr['protectedRangeId'], fail, 'protectedRange.protectedRangeId', true);
  const taken = ctx.book.sheets.flatMap((s) => s.protectedRanges.map((p) => p.protectedRangeId));
  if (id !== undefined && taken.includes(id)) throw fail(`A protected range with ID ${id} already exists.`);
  id ??= ctx.book.nextProtectedRangeId++;
  const users =
    editorsRaw === undefined
      ? []
      : ((obj(editorsRaw, fail, 'protectedRange.editors')['users'] ?? []) as Json[]);
  const editors = [...new Set([ctx.who, ...users.filter((u): u is string => typeof u === 'string')])];
  const description = typeof pr['description'] === 'string' ? pr['description'] : undefined;
  const stored = {
    protectedRangeId: id,
    range,
    warningOnly,
    editors,
    ...(description === undefined ? {} : { description }),
  };
  sheet.protectedRanges.push(stored);
  return { addProtectedRange: { protectedRange: protectedRangeJson(stored, ctx.who, ctx.book) } };
};

const deleteProtectedRange: Handler = (body, ctx, fail) => {
  const id = int(body['protectedRangeId'], fail, 'protectedRangeId') as number;
  const sheet = ctx.book.sheets.find((s) => s.protectedRanges.some((p) => p.protectedRangeId === id));
  if (sheet === undefined) throw fail(`No protected range with id: ${id}`);
  sheet.protectedRanges = sheet.protectedRanges.filter((p) => p.protectedRangeId !== id);
  return undefined;
};

export function protectedRangeJson(
  p: {
    protectedRangeId: number;
    range: GridRange;
    warningOnly: boolean;
    editors: string[];
    description?: string;
  },
  who: string,
  book: FakeSpreadsheet,
): JsonObject {
  const out: JsonObject = {
    protectedRangeId: p.protectedRangeId,
    range: { ...p.range } as unknown as JsonObject,
    requestingUserCanEdit: p.warningOnly || p.editors.includes(who) || book.permissions.get(who) === 'owner',
  };
  if (p.description !== undefined) out['description'] = p.description;
  if (p.warningOnly) out['warningOnly'] = true;
  else out['editors'] = { users: p.editors };
  return out;
}

function metadataChars(list: readonly StoredMetadata[]): number {
  return list.reduce((n, m) => n + m.metadataKey.length + (m.metadataValue?.length ?? 0), 0);
}

const createDeveloperMetadata: Handler = (body, ctx, fail) => {
  const dm = obj(body['developerMetadata'], fail, 'developerMetadata');
  const key = dm['metadataKey'];
  if (typeof key !== 'string' || key === '')
    throw fail('Developer metadata must always have a key specified.');
  const visibility = dm['visibility'];
  if (visibility !== 'DOCUMENT' && visibility !== 'PROJECT')
    throw fail('Developer metadata must always have a visibility specified.');
  const value = dm['metadataValue'];
  if (value !== undefined && typeof value !== 'string') throw fail('metadataValue must be a string');
  let holder;
  try {
    holder = holderFromLocation(ctx.book, dm['location'], 'developerMetadata.location');
  } catch (e) {
    if (e instanceof FakeGoogleError) throw fail(e.body.error.message);
    throw e;
  }
  let id = int(dm['metadataId'], fail, 'developerMetadata.metadataId', true);
  if (id !== undefined) {
    if (id <= 0) throw fail('metadataId must be positive');
    if (ctx.book.hasMetadataId(id)) throw fail(`Developer metadata with ID ${id} already exists.`);
  }
  id ??= ctx.book.newMetadataId();
  const meta: StoredMetadata = {
    metadataId: id,
    metadataKey: key,
    visibility,
    project: ctx.project,
    ...(value === undefined ? {} : { metadataValue: value }),
  };
  if (metadataChars(ctx.book.metadataAt(holder)) + metadataChars([meta]) > ctx.metadataCharsPerLocation) {
    throw fail(
      `The total size of developer metadata at this location would exceed ${ctx.metadataCharsPerLocation} characters.`,
    );
  }
  ctx.book.addMetadata(holder, meta);
  return { createDeveloperMetadata: { developerMetadata: metadataJson({ meta, holder }) } };
};

function matchFilters(ctx: ApplyContext, raw: Json[], fail: (m: string) => FakeGoogleError) {
  try {
    const tests = raw.map((f, i) => compileFilter(ctx.book, f, `dataFilters[${i}]`));
    return ctx.book.allMetadata().filter((m) => visibleTo(m.meta, ctx.project) && tests.some((t) => t(m)));
  } catch (e) {
    if (e instanceof FakeGoogleError) throw fail(e.body.error.message);
    throw e;
  }
}

const updateDeveloperMetadata: Handler = (body, ctx, fail) => {
  const filters = body['dataFilters'];
  if (!Array.isArray(filters) || filters.length === 0) throw fail('dataFilters must not be empty');
  const dm = obj(body['developerMetadata'], fail, 'developerMetadata');
  const tree = fieldMask(body['fields'], fail);
  for (const k of tree.keys()) {
    if (k === 'location')
      throw notImplementedByFake('moving developer metadata (updateDeveloperMetadata of location)');
    if (k === 'metadataId') throw fail('metadataId cannot be updated');
    if (!['metadataKey', 'metadataValue', 'visibility', '*'].includes(k))
      throw fail(`Invalid field mask: ${k}`);
  }
  const updated: Json[] = [];
  for (const m of matchFilters(ctx, filters, fail)) {
    const next = applyUpdateMask(m.meta, dm, tree) as StoredMetadata;
    if (typeof next.metadataKey !== 'string' || next.metadataKey === '')
      throw fail('Developer metadata must always have a key specified.');
    if (next.visibility !== 'DOCUMENT' && next.visibility !== 'PROJECT')
      throw fail('Developer metadata must always have a visibility specified.');
    const stored: StoredMetadata = { ...next, metadataId: m.meta.metadataId, project: m.meta.project };
    ctx.book.replaceMetadata(m.holder, m.meta.metadataId, stored);
    updated.push(metadataJson({ meta: stored, holder: m.holder }));
  }
  return { updateDeveloperMetadata: { developerMetadata: updated } };
};

const deleteDeveloperMetadata: Handler = (body, ctx, fail) => {
  const filter = body['dataFilter'];
  if (filter === undefined) throw fail('dataFilter is required');
  const deleted: Json[] = [];
  for (const m of matchFilters(ctx, [filter], fail)) {
    ctx.book.replaceMetadata(m.holder, m.meta.metadataId, undefined);
    deleted.push(metadataJson(m));
  }
  return { deleteDeveloperMetadata: { deletedDeveloperMetadata: deleted } };
};

function dimensionRange(ctx: ApplyContext, raw: Json | undefined, fail: (m: string) => FakeGoogleError) {
  const r = obj(raw, fail, 'range');
  const sheetId = int(r['sheetId'] ?? 0, fail, 'range.sheetId') as number;
  const sheet = ctx.book.sheetById(sheetId);
  if (sheet === undefined) throw fail(`No grid with id: ${sheetId}`);
  const dimension = r['dimension'];
  if (dimension !== 'ROWS' && dimension !== 'COLUMNS') throw fail('range.dimension must be ROWS or COLUMNS');
  const start = int(r['startIndex'] ?? 0, fail, 'range.startIndex') as number;
  const end = int(r['endIndex'], fail, 'range.endIndex') as number;
  const limit = dimension === 'ROWS' ? sheet.rowCount : sheet.columnCount;
  if (start < 0 || end <= start) throw fail('range.endIndex must be greater than range.startIndex');
  return { sheet, dimension: dimension as Dimension, start, end, limit };
}

function guarded<T>(fail: (m: string) => FakeGoogleError, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FakeGoogleError && e.httpStatus === 400) throw fail(e.body.error.message);
    throw e;
  }
}

const insertDimension: Handler = (body, ctx, fail) => {
  const { sheet, dimension, start, end, limit } = dimensionRange(ctx, body['range'], fail);
  if (start > limit)
    throw fail(
      `range.startIndex (${start}) is after the last ${dimension === 'ROWS' ? 'row' : 'column'} (${limit})`,
    );
  const inherit = body['inheritFromBefore'] === true;
  if (inherit && start === 0) throw fail('Cannot inherit properties from before when inserting at index 0.');
  guarded(fail, () =>
    ctx.book.insertDimension(sheet, dimension, start, end - start, inherit ? 'before' : undefined),
  );
  return undefined;
};

const appendDimension: Handler = (body, ctx, fail) => {
  const sheetId = int(body['sheetId'] ?? 0, fail, 'sheetId') as number;
  const sheet = ctx.book.sheetById(sheetId);
  if (sheet === undefined) throw fail(`No grid with id: ${sheetId}`);
  const dimension = body['dimension'];
  if (dimension !== 'ROWS' && dimension !== 'COLUMNS') throw fail('dimension must be ROWS or COLUMNS');
  const length = int(body['length'], fail, 'length') as number;
  if (length <= 0) throw fail('length must be positive');
  const at = dimension === 'ROWS' ? sheet.rowCount : sheet.columnCount;
  guarded(fail, () => ctx.book.insertDimension(sheet, dimension, at, length));
  return undefined;
};

const deleteDimension: Handler = (body, ctx, fail) => {
  const { sheet, dimension, start, end, limit } = dimensionRange(ctx, body['range'], fail);
  if (end > limit)
    throw fail(
      `range.endIndex (${end}) is after the last ${dimension === 'ROWS' ? 'row' : 'column'} (${limit})`,
    );
  if (start === 0 && end === limit)
    throw fail(`You can't delete all the ${dimension === 'ROWS' ? 'rows' : 'columns'} on the sheet.`);
  ctx.book.deleteDimension(sheet, dimension, start, end);
  return undefined;
};

const sortRange: Handler = (body, ctx, fail) => {
  const { sheet, box } = gridBox(ctx.book, body['range'], fail);
  const specs = body['sortSpecs'];
  if (!Array.isArray(specs) || specs.length === 0) throw fail('sortSpecs must not be empty');
  const parsed = specs.map((s, i) => {
    const spec = obj(s, fail, `sortSpecs[${i}]`);
    const column = int(spec['dimensionIndex'], fail, `sortSpecs[${i}].dimensionIndex`) as number;
    if (column < box.startColumn || column >= box.endColumn)
      throw fail(`sortSpecs[${i}].dimensionIndex is outside the range`);
    const order = spec['sortOrder'] ?? 'ASCENDING';
    if (order !== 'ASCENDING' && order !== 'DESCENDING')
      throw fail(`sortSpecs[${i}].sortOrder must be ASCENDING or DESCENDING`);
    return { column, ascending: order === 'ASCENDING' };
  });
  guardProtection(ctx, sheet, box, fail);
  ctx.book.sortRows(sheet, box, parsed, ctx.rowMetadataFollowsSort);
  return undefined;
};

const updateSheetProperties: Handler = (body, ctx, fail) => {
  const props = obj(body['properties'], fail, 'properties');
  const tree = fieldMask(body['fields'], fail);
  const sheetId = int(props['sheetId'] ?? 0, fail, 'properties.sheetId') as number;
  const sheet = ctx.book.sheetById(sheetId);
  if (sheet === undefined) throw fail(`No grid with id: ${sheetId}`);
  for (const [key, sub] of tree) {
    if (key === 'title') {
      const title = props['title'];
      if (typeof title !== 'string' || title.trim() === '') throw fail('A sheet name cannot be empty.');
      renameSheet(ctx.book, sheet, title, fail);
    } else if (key === 'gridProperties') {
      const gp =
        props['gridProperties'] === undefined
          ? {}
          : obj(props['gridProperties'], fail, 'properties.gridProperties');
      const keys = sub === true ? ['rowCount', 'columnCount', 'frozenRowCount'] : [...sub.keys()];
      for (const k of keys) {
        const v = int(gp[k] ?? 0, fail, `properties.gridProperties.${k}`) as number;
        if (k === 'frozenRowCount') sheet.frozenRowCount = v;
        else if (k === 'rowCount' || k === 'columnCount') {
          const dim: Dimension = k === 'rowCount' ? 'ROWS' : 'COLUMNS';
          const now = k === 'rowCount' ? sheet.rowCount : sheet.columnCount;
          if (v < 1) throw fail(`properties.gridProperties.${k} must be positive`);
          if (v > now) guarded(fail, () => ctx.book.insertDimension(sheet, dim, now, v - now));
          else if (v < now) ctx.book.deleteDimension(sheet, dim, v, now);
        } else throw notImplementedByFake(`gridProperties.${k}`);
      }
    } else if (key !== 'sheetId') {
      throw notImplementedByFake(`updateSheetProperties of ${key}`);
    }
  }
  return undefined;
};

export function renameSheet(
  book: FakeSpreadsheet,
  sheet: SheetModel,
  title: string,
  fail: (m: string) => FakeGoogleError,
): void {
  const other = book.sheetByTitle(title);
  if (other !== undefined && other.sheetId !== sheet.sheetId) {
    throw fail(`A sheet with the name "${title}" already exists. Please enter another name.`);
  }
  sheet.title = title;
}

const HANDLERS: Record<string, Handler> = {
  repeatCell,
  updateCells,
  setDataValidation,
  addProtectedRange,
  deleteProtectedRange,
  createDeveloperMetadata,
  updateDeveloperMetadata,
  deleteDeveloperMetadata,
  insertDimension,
  appendDimension,
  deleteDimension,
  sortRange,
  updateSheetProperties,
};

/** Applies all requests to the draft; returns the replies. Throws on the first invalid one. */
export function applyRequests(requests: Json[], ctx: ApplyContext): JsonObject[] {
  return requests.map((raw, index) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw sheetsError(400, `Invalid requests[${index}]: a request must be an object`);
    const kinds = Object.keys(raw);
    if (kinds.length === 0) throw sheetsError(400, `Invalid requests[${index}]: No request set.`);
    for (const k of kinds) {
      if (HANDLERS[k] === undefined && !UNMODELLED_KINDS.has(k)) {
        throw sheetsError(
          400,
          `Invalid JSON payload received. Unknown name "${k}" at 'requests[${index}]': Cannot find field.`,
        );
      }
    }
    if (kinds.length > 1) {
      throw sheetsError(
        400,
        `Invalid JSON payload received. Oneof field 'kind' is already set. Cannot set '${kinds[1] ?? ''}'`,
      );
    }
    const kind = kinds[0] as string;
    const handler = HANDLERS[kind];
    if (handler === undefined) throw notImplementedByFake(`the ${kind} request`);
    const body = raw[kind];
    const fail = (message: string): FakeGoogleError => invalidRequest(index, kind, message);
    return handler(obj(body, fail, kind), ctx, fail) ?? {};
  });
}

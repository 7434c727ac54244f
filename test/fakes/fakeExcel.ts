/**
 * An in-memory Excel for tests: the part of the office-js object model the add-in uses, enforcing the
 * rules real Excel enforces — a property cannot be read before `load` + `sync`, proxies queue until
 * `sync`, 5 MB request and response limits (Excel on the web), getRange/getRanges addresses under
 * 8,192 characters, API sets by version (ExcelApi 1.9 vs 1.18) — and counting syncs and payloads.
 * Free of Node APIs, so it bundles into the browser test too (`installFakeOffice`).
 */

export type FakeCell = string | number | boolean | null;

export interface FakeSheetInit {
  name: string;
  /**
   * Values from A1; null and '' are empty cells. Text that is an Excel error value (`#REF!`, `#N/A`,
   * `#VALUE!`…) becomes an error cell, as a broken formula leaves it.
   */
  values?: FakeCell[][];
  active?: boolean;
  /** Merged areas, e.g. `['A1:C1']`: only the top-left cell holds a value. */
  merged?: string[];
  /** Sheet protection on (no password): every write to a cell fails with AccessDenied. */
  protected?: boolean;
  /** Cells holding a threaded comment: such a cell cannot also get a note. */
  comments?: string[];
  /** Formula cells: `values` gives the computed result, `formulas` the formula. */
  formulas?: Record<string, { formula: string; result: string | number | boolean }>;
}

export interface FakeOfficeOptions {
  sheets?: FakeSheetInit[];
  /** Highest ExcelApi requirement set the host supports, e.g. '1.9' or '1.18'. */
  apiVersion?: string;
  /**
   * Highest ExcelApi set whose objects the served office.js defines. A host may report 1.18 through
   * isSetSupported while the script (the stale npm copy) has no `Worksheet.notes`: then `sheet.notes`
   * is undefined. Defaults to apiVersion.
   */
  servedApiVersion?: string;
  /** The UI language: table creation names blank header cells `列1` (zh-CN) or `Column1` (en-US). */
  locale?: 'zh-CN' | 'en-US';
  /** The workbook uses the 1904 date system: serials count days from 1904-01-01. */
  date1904?: boolean;
  /** What Excel says for an oversized request: the documented code, or the GeneralException some hosts give. */
  oversizeError?: 'RequestPayloadSizeLimitExceeded' | 'GeneralException';
  /** Year a partial date (`3/5`) typed without a year gets. */
  currentYear?: number;
  /** Areas getRanges takes in one call (default RANGES_AREA_LIMIT); hosts differ. */
  rangesAreaLimit?: number;
}

/** Excel on the web: 5 MB per request and per response. */
export const PAYLOAD_LIMIT_BYTES = 5 * 1024 * 1024;
/** getRange / getRanges refuse addresses of this many characters or more. */
export const ADDRESS_LIMIT_CHARS = 8_192;
/** getRanges refuses more areas than this in one call (the add-in keeps well under it). */
export const RANGES_AREA_LIMIT = 300;
/** Excel's error values, as `values` reports them. */
export const ERROR_VALUES = [
  '#NULL!',
  '#DIV/0!',
  '#VALUE!',
  '#REF!',
  '#NAME?',
  '#NUM!',
  '#N/A',
  '#SPILL!',
  '#CALC!',
];
const MAX_ROWS = 1_048_576;
const MAX_COLUMNS = 16_384;

export interface SyncRecord {
  /** 1-based number of the sync. */
  sync: number;
  requestBytes: number;
  responseBytes: number;
  operations: number;
  /** `application.suspendApiCalculationUntilNextSync()` was called for this sync. */
  calculationSuspended: boolean;
  /** Longest address passed to getRanges in this sync (0 when none). */
  longestRangesAddress: number;
  /** Error code when the sync failed. */
  failed?: string;
}

export interface CellSnapshot {
  value: string | number | boolean;
  /** The value was taken as a formula (text starting with = + - written to a non-text cell). */
  formula: boolean;
  numberFormat: string;
  fill: string | null;
  bold: boolean;
  validation: ValidationSnapshot | null;
  note: string | null;
}

export interface ValidationSnapshot {
  rule: Record<string, unknown>;
  errorAlert: Record<string, unknown> | null;
}

/** Shaped like OfficeExtension.Error: `code`, `message`, `debugInfo.errorLocation`. */
export class FakeOfficeError extends Error {
  readonly code: string;
  readonly debugInfo: { code: string; message: string; errorLocation: string };

  constructor(code: string, message: string, errorLocation = '') {
    super(message);
    this.name = 'RichApi.Error';
    this.code = code;
    this.debugInfo = { code, message, errorLocation };
  }
}

function fail(code: string, message: string, location = ''): never {
  throw new FakeOfficeError(code, message, location);
}

// ---------------------------------------------------------------------------------------------------
// The workbook model

interface Area {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

interface CellModel {
  value: string | number | boolean;
  formula: boolean;
  numberFormat: string;
  fill: string | null;
  bold: boolean;
  validation: ValidationSnapshot | null;
  note: string | null;
  /** The value is an Excel error (`#REF!`…), not text. */
  error?: boolean;
  /** A formula whose computed result is `value`. */
  formulaText?: string;
  /** The cell holds a threaded comment. */
  comment?: boolean;
}

function blankCell(): CellModel {
  return {
    value: '',
    formula: false,
    numberFormat: 'General',
    fill: null,
    bold: false,
    validation: null,
    note: null,
  };
}

/** A value the workbook starts with: error texts become error cells. */
function initialCell(cell: CellModel, value: FakeCell): void {
  cell.value = value ?? '';
  cell.error = typeof value === 'string' && ERROR_VALUES.includes(value);
}

function valueTypeOf(cell: CellModel | undefined): string {
  if (cell === undefined || cell.value === '') return 'Empty';
  if (cell.error === true) return 'Error';
  if (typeof cell.value === 'number') return 'Double';
  if (typeof cell.value === 'boolean') return 'Boolean';
  return 'String';
}

function isDefault(cell: CellModel): boolean {
  return (
    cell.value === '' &&
    cell.numberFormat === 'General' &&
    cell.fill === null &&
    !cell.bold &&
    cell.validation === null &&
    cell.note === null
  );
}

class SheetModel {
  readonly rows = new Map<number, Map<number, CellModel>>();
  frozenRows = 0;
  merged: Area[] = [];
  protected = false;
  readonly columnWidths = new Map<number, number>();
  visibility: 'Visible' | 'Hidden' | 'VeryHidden' = 'Visible';
  /** Charts float over the sheet: clearing cells leaves them; deleting the sheet removes them. */
  charts: ChartModel[] = [];

  constructor(public name: string) {}

  get(row: number, column: number): CellModel | undefined {
    return this.rows.get(row)?.get(column);
  }

  ensure(row: number, column: number): CellModel {
    let cells = this.rows.get(row);
    if (cells === undefined) {
      cells = new Map();
      this.rows.set(row, cells);
    }
    let cell = cells.get(column);
    if (cell === undefined) {
      cell = blankCell();
      cells.set(column, cell);
    }
    return cell;
  }

  /** Cells that exist inside an area, without walking empty space. */
  *existing(area: Area): Generator<[number, number, CellModel]> {
    for (const [row, cells] of this.rows) {
      if (row < area.top || row > area.bottom) continue;
      for (const [column, cell] of cells) {
        if (column >= area.left && column <= area.right) yield [row, column, cell];
      }
    }
  }

  used(valuesOnly: boolean): Area | null {
    let area: Area | null = null;
    for (const [row, cells] of this.rows) {
      for (const [column, cell] of cells) {
        if (valuesOnly ? cell.value === '' : isDefault(cell)) continue;
        if (area === null) area = { top: row, left: column, bottom: row, right: column };
        else {
          area.top = Math.min(area.top, row);
          area.bottom = Math.max(area.bottom, row);
          area.left = Math.min(area.left, column);
          area.right = Math.max(area.right, column);
        }
      }
    }
    return area;
  }
}

interface ChartModel {
  name: string;
  type: string;
  source: { sheet: SheetModel; area: Area };
  seriesBy: string;
  title: string;
  position: { start: string; end: string | null } | null;
}

/** Excel.ChartType values (ExcelApi 1.1); anything else is InvalidArgument. */
export const CHART_TYPES: readonly string[] = [
  'Invalid',
  'ColumnClustered',
  'ColumnStacked',
  'ColumnStacked100',
  '3DColumnClustered',
  '3DColumnStacked',
  '3DColumnStacked100',
  'BarClustered',
  'BarStacked',
  'BarStacked100',
  '3DBarClustered',
  '3DBarStacked',
  '3DBarStacked100',
  'LineStacked',
  'LineStacked100',
  'LineMarkers',
  'LineMarkersStacked',
  'LineMarkersStacked100',
  'PieOfPie',
  'PieExploded',
  '3DPieExploded',
  'BarOfPie',
  'XYScatterSmooth',
  'XYScatterSmoothNoMarkers',
  'XYScatterLines',
  'XYScatterLinesNoMarkers',
  'AreaStacked',
  'AreaStacked100',
  '3DAreaStacked',
  '3DAreaStacked100',
  'DoughnutExploded',
  'RadarMarkers',
  'RadarFilled',
  'Surface',
  'SurfaceWireframe',
  'SurfaceTopView',
  'SurfaceTopViewWireframe',
  'Bubble',
  'Bubble3DEffect',
  'StockHLC',
  'StockOHLC',
  'StockVHLC',
  'StockVOHLC',
  'CylinderColClustered',
  'CylinderColStacked',
  'CylinderColStacked100',
  'CylinderBarClustered',
  'CylinderBarStacked',
  'CylinderBarStacked100',
  'CylinderCol',
  'ConeColClustered',
  'ConeColStacked',
  'ConeColStacked100',
  'ConeBarClustered',
  'ConeBarStacked',
  'ConeBarStacked100',
  'ConeCol',
  'PyramidColClustered',
  'PyramidColStacked',
  'PyramidColStacked100',
  'PyramidBarClustered',
  'PyramidBarStacked',
  'PyramidBarStacked100',
  'PyramidCol',
  '3DColumn',
  'Line',
  '3DLine',
  '3DPie',
  'Pie',
  'XYScatter',
  '3DArea',
  'Area',
  'Doughnut',
  'Radar',
];
const SERIES_BY: readonly string[] = ['Auto', 'Columns', 'Rows'];

interface TableModel {
  name: string;
  sheet: SheetModel;
  area: Area;
}

class WorkbookModel {
  sheets: SheetModel[] = [];
  active: SheetModel;
  /** What `Range.select()` selected last: Excel shows that sheet and selects the area. */
  selection: { sheet: SheetModel; area: Area } | null = null;
  tables: TableModel[] = [];
  tableCounter = 0;

  constructor(init: readonly FakeSheetInit[]) {
    for (const s of init.length > 0 ? init : [{ name: 'Sheet1' }]) {
      const sheet = new SheetModel(s.name);
      (s.values ?? []).forEach((row, r) =>
        row.forEach((value, c) => {
          if (value !== null && value !== '') initialCell(sheet.ensure(r + 1, c + 1), value);
        }),
      );
      sheet.merged = (s.merged ?? []).map((a) => parseArea(a).area);
      sheet.protected = s.protected === true;
      for (const address of s.comments ?? []) {
        const { top, left } = parseArea(address).area;
        sheet.ensure(top, left).comment = true;
      }
      for (const [address, { formula, result }] of Object.entries(s.formulas ?? {})) {
        const { top, left } = parseArea(address).area;
        const cell = sheet.ensure(top, left);
        initialCell(cell, result);
        cell.formulaText = formula;
      }
      this.sheets.push(sheet);
    }
    this.active = this.sheets.find((_, i) => init[i]?.active === true) ?? (this.sheets[0] as SheetModel);
  }

  sheet(name: string): SheetModel | undefined {
    return this.sheets.find((s) => s.name.toLowerCase() === name.toLowerCase());
  }
}

// ---------------------------------------------------------------------------------------------------
// A1 addresses

function columnNumber(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

function columnName(column: number): string {
  let s = '';
  for (let n = column; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

function areaAddress(area: Area): string {
  const start = `${columnName(area.left)}${area.top}`;
  return area.top === area.bottom && area.left === area.right
    ? start
    : `${start}:${columnName(area.right)}${area.bottom}`;
}

/** Excel quotes a sheet name unless it is letters, digits and underscores not starting with a digit. */
function qualify(sheet: string, address: string): string {
  const plain = /^[\p{L}_][\p{L}\p{N}_.]*$/u.test(sheet);
  return `${plain ? sheet : `'${sheet.replace(/'/g, "''")}'`}!${address}`;
}

interface ParsedArea {
  sheet: string | undefined;
  area: Area;
}

/** One area: `A1`, `$A$1:C3`, `A:C`, `5:7`, optionally `Sheet!` or `'Sheet name'!` in front. */
function parseArea(text: string): ParsedArea {
  let rest = text.trim();
  let sheet: string | undefined;
  if (rest.startsWith("'")) {
    let i = 1;
    let name = '';
    for (; i < rest.length; i++) {
      if (rest[i] === "'") {
        if (rest[i + 1] === "'") {
          name += "'";
          i++;
          continue;
        }
        break;
      }
      name += rest[i];
    }
    if (rest[i + 1] !== '!') fail('InvalidArgument', `bad address "${text}"`);
    sheet = name;
    rest = rest.slice(i + 2);
  } else if (rest.includes('!')) {
    const bang = rest.lastIndexOf('!');
    sheet = rest.slice(0, bang);
    rest = rest.slice(bang + 1);
  }
  const cell = /^\$?([A-Za-z]{1,3})\$?(\d{1,7})$/;
  const [a, b, ...more] = rest.split(':');
  if (a === undefined || more.length > 0) fail('InvalidArgument', `bad address "${text}"`);
  const end = b ?? a;
  const ca = cell.exec(a);
  const cb = cell.exec(end);
  let area: Area;
  if (ca && cb) {
    area = {
      top: Math.min(Number(ca[2]), Number(cb[2])),
      bottom: Math.max(Number(ca[2]), Number(cb[2])),
      left: Math.min(columnNumber(ca[1] as string), columnNumber(cb[1] as string)),
      right: Math.max(columnNumber(ca[1] as string), columnNumber(cb[1] as string)),
    };
  } else if (b !== undefined && /^\$?[A-Za-z]{1,3}$/.test(a) && /^\$?[A-Za-z]{1,3}$/.test(b)) {
    const l = columnNumber(a.replace('$', ''));
    const r = columnNumber(b.replace('$', ''));
    area = { top: 1, bottom: MAX_ROWS, left: Math.min(l, r), right: Math.max(l, r) };
  } else if (b !== undefined && /^\$?\d{1,7}$/.test(a) && /^\$?\d{1,7}$/.test(b)) {
    const t = Number(a.replace('$', ''));
    const u = Number(b.replace('$', ''));
    area = { top: Math.min(t, u), bottom: Math.max(t, u), left: 1, right: MAX_COLUMNS };
  } else {
    fail('InvalidArgument', `bad address "${text}"`);
  }
  if (area.top < 1 || area.left < 1 || area.bottom > MAX_ROWS || area.right > MAX_COLUMNS) {
    fail('InvalidArgument', `address out of the sheet "${text}"`);
  }
  return { sheet, area };
}

/** Comma- or semicolon-separated areas (commas inside a quoted sheet name do not split). */
export function parseAddressList(text: string): ParsedArea[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === "'") quoted = !quoted;
    if (!quoted && (ch === ',' || ch === ';')) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map(parseArea);
}

function areaOnSheet(parsed: ParsedArea, sheet: SheetModel): Area {
  if (parsed.sheet !== undefined && parsed.sheet.toLowerCase() !== sheet.name.toLowerCase()) {
    fail('InvalidArgument', `address on sheet "${parsed.sheet}" used on sheet "${sheet.name}"`);
  }
  return parsed.area;
}

function overlaps(a: Area, b: Area): boolean {
  return a.top <= b.bottom && b.top <= a.bottom && a.left <= b.right && b.left <= a.right;
}

// ---------------------------------------------------------------------------------------------------
// Cell values as Excel takes them

/** How Excel types text written to a General cell: the workbook's date system and the current year. */
export interface Typing {
  date1904: boolean;
  year: number;
}

const DEFAULT_TYPING: Typing = { date1904: false, year: 2026 };

/** Excel's serial of a calendar day: days from 1899-12-30, or from 1904-01-01 in the 1904 date system. */
function daySerial(year: number, month: number, day: number, typing: Typing): number | null {
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  const epoch = typing.date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 30);
  return Math.round((ms - epoch) / 86_400_000);
}

/** A date Excel recognises in typed text, with the format it gives the cell. */
function typedDate(text: string, typing: Typing): { serial: number; format: string } | null {
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  if (m) {
    const serial = daySerial(Number(m[1]), Number(m[2]), Number(m[3]), typing);
    return serial === null ? null : { serial, format: 'yyyy-mm-dd' };
  }
  m = /^(\d{4})年(\d{1,2})月(\d{1,2})日$/.exec(text);
  if (m) {
    const serial = daySerial(Number(m[1]), Number(m[2]), Number(m[3]), typing);
    return serial === null ? null : { serial, format: 'yyyy"年"m"月"d"日"' };
  }
  // `3/5` is 5 March of this year in zh-CN and en-US alike; `3/5/2026` spells the year.
  m = /^(\d{1,2})\/(\d{1,2})(?:\/(\d{4}))?$/.exec(text);
  if (m) {
    const serial = daySerial(Number(m[3] ?? typing.year), Number(m[1]), Number(m[2]), typing);
    return serial === null ? null : { serial, format: m[3] === undefined ? 'm/d' : 'm/d/yyyy' };
  }
  return null;
}

function writeCell(cell: CellModel, value: unknown, typing: Typing = DEFAULT_TYPING): void {
  if (value === null || value === undefined) return; // null leaves a cell as it is
  cell.error = false;
  delete cell.formulaText;
  if (typeof value === 'number' || typeof value === 'boolean') {
    cell.value = value;
    cell.formula = false;
    return;
  }
  if (typeof value !== 'string') fail('InvalidArgument', `a cell value must be text, a number or a boolean`);
  cell.formula = false;
  if (value === '' || cell.numberFormat === '@') {
    cell.value = value;
    return;
  }
  // Excel types what it recognises, as if the text had been typed into the cell.
  const text = value.trim();
  if (/^[+-]?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) {
    cell.value = Number(text);
    return;
  }
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(text)) {
    cell.value = Number(text.replace(/,/g, ''));
    if (cell.numberFormat === 'General') cell.numberFormat = '#,##0';
    return;
  }
  const percent = /^([+-]?\d+(?:\.\d+)?)%$/.exec(text);
  if (percent) {
    cell.value = Number(percent[1]) / 100;
    if (cell.numberFormat === 'General') cell.numberFormat = '0%';
    return;
  }
  if (/^(true|false)$/i.test(text)) {
    cell.value = text.toLowerCase() === 'true';
    return;
  }
  if (ERROR_VALUES.includes(text.toUpperCase())) {
    cell.value = text.toUpperCase();
    cell.error = true;
    return;
  }
  if (/^[=+-]./.test(value)) {
    cell.value = value;
    cell.formula = true;
    return;
  }
  const date = typedDate(text, typing);
  if (date !== null) {
    cell.value = date.serial;
    if (cell.numberFormat === 'General') cell.numberFormat = date.format;
    return;
  }
  cell.value = value;
}

/** Protected sheets refuse every change to their cells. */
function assertWritable(sheet: SheetModel): void {
  if (sheet.protected) {
    fail(
      'AccessDenied',
      `The cell or chart you're trying to change is on a protected sheet ("${sheet.name}").`,
    );
  }
}

/** The merged area a cell belongs to, when it is not that area's top-left cell. */
function hiddenByMerge(sheet: SheetModel, row: number, column: number): boolean {
  return sheet.merged.some(
    (m) =>
      row >= m.top &&
      row <= m.bottom &&
      column >= m.left &&
      column <= m.right &&
      (row !== m.top || column !== m.left),
  );
}

/** A 2-D array of exactly the range's size, or a single value for every cell (documented office-js behaviour). */
function forEachInput(
  area: Area,
  input: unknown,
  what: string,
  apply: (row: number, column: number, v: unknown) => void,
): void {
  const rows = area.bottom - area.top + 1;
  const columns = area.right - area.left + 1;
  if (!Array.isArray(input)) {
    if (rows * columns > 5_000_000) fail('InvalidArgument', `${what}: too many cells`);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < columns; c++) apply(area.top + r, area.left + c, input);
    return;
  }
  if (input.length !== rows || !input.every((row) => Array.isArray(row) && row.length === columns)) {
    fail(
      'InvalidArgument',
      `${what}: the number of rows or columns in the input array doesn't match the size of the range (${rows}×${columns})`,
    );
  }
  (input as unknown[][]).forEach((row, r) => row.forEach((v, c) => apply(area.top + r, area.left + c, v)));
}

const CRITERIA = ['custom', 'date', 'decimal', 'list', 'textLength', 'time', 'wholeNumber'];

function checkRule(rule: unknown): Record<string, unknown> {
  if (typeof rule !== 'object' || rule === null)
    fail('InvalidArgument', 'a data validation rule must be an object');
  const keys = Object.keys(rule).filter((k) => (rule as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1 || !CRITERIA.includes(keys[0] as string)) {
    fail(
      'InvalidArgument',
      `a data validation rule takes exactly one criterion (got ${keys.join(', ') || 'none'})`,
    );
  }
  const criterion = (rule as Record<string, Record<string, unknown>>)[keys[0] as string] ?? {};
  for (const formula of [criterion['formula'], criterion['formula1'], criterion['formula2']]) {
    if (typeof formula === 'string' && formula.length > 255) {
      fail('InvalidArgument', 'a data validation formula is limited to 255 characters');
    }
  }
  if (keys[0] === 'list' && (typeof criterion['source'] !== 'string' || criterion['source'] === '')) {
    fail('InvalidArgument', 'a list validation needs a source');
  }
  return JSON.parse(JSON.stringify(rule)) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------
// Request context, queue and sync

function utf8(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value) ?? '').length;
}

function versionNumber(version: string): number {
  const [major, minor] = version.split('.');
  return Number(major) * 1000 + Number(minor ?? 0);
}

interface Operation {
  target: FakeObject;
  /** What goes over the wire, for the payload size. */
  wire: unknown;
  minApi: string;
  location: string;
  run(): void;
}

interface Shared {
  model: WorkbookModel;
  api: number;
  /** ExcelApi version whose objects the served script defines. */
  served: number;
  syncs: number;
  log: SyncRecord[];
  typing: Typing;
  locale: 'zh-CN' | 'en-US';
  oversizeError: string;
  rangesAreaLimit: number;
  /** The user is typing in a cell: batches fail, or wait when run with delayForCellEdit. */
  cellEdit: { until: Promise<void>; end: () => void } | null;
}

class FakeRequestContext {
  readonly workbook: FakeWorkbookObject;
  readonly application: FakeApplication;
  closed = false;
  private queue: Operation[] = [];
  private created: FakeObject[] = [];
  private staged: (() => void)[] = [];
  private responseBytes = 0;
  private calculationSuspended = false;
  private longestRanges = 0;

  constructor(
    readonly shared: Shared,
    readonly delayForCellEdit = false,
  ) {
    this.workbook = new FakeWorkbookObject(this);
    this.application = new FakeApplication(this);
  }

  get model(): WorkbookModel {
    return this.shared.model;
  }

  register(object: FakeObject): void {
    this.created.push(object);
  }

  enqueue(op: Operation, ...args: unknown[]): void {
    if (this.closed)
      fail('InvalidRequestContext', 'the request context of a finished Excel.run cannot be used');
    for (const arg of [op.target, ...args]) {
      if (arg instanceof FakeObject && arg.context !== this) {
        fail('InvalidRequestContext', 'an object of another request context cannot be used');
      }
    }
    this.queue.push(op);
  }

  /** A loaded value, delivered to the proxy only when the sync succeeds. */
  stage(value: unknown, deliver: () => void): void {
    this.responseBytes += utf8(value);
    this.staged.push(deliver);
  }

  suspendCalculation(): void {
    this.calculationSuspended = true;
  }

  noteRangesAddress(address: string): void {
    this.longestRanges = Math.max(this.longestRanges, address.length);
  }

  hasPending(): boolean {
    return this.queue.length > 0;
  }

  async sync(): Promise<void> {
    if (this.closed)
      fail('InvalidRequestContext', 'the request context of a finished Excel.run cannot be used');
    await Promise.resolve();
    if (this.shared.cellEdit !== null) {
      if (!this.delayForCellEdit) {
        fail(
          'InvalidOperationInCellEditMode',
          'Excel is in cell-editing mode. Please exit the edit mode and try again.',
        );
      }
      await this.shared.cellEdit.until;
    }
    const ops = this.queue;
    const created = this.created;
    this.queue = [];
    this.created = [];
    this.staged = [];
    this.responseBytes = 0;
    this.calculationSuspended = false;
    this.longestRanges = 0;
    const record: SyncRecord = {
      sync: ++this.shared.syncs,
      requestBytes:
        ops.reduce((n, op) => n + utf8(op.wire), 0) + created.reduce((n, o) => n + utf8(o.path) + 40, 0),
      responseBytes: 0,
      operations: ops.length,
      calculationSuspended: false,
      longestRangesAddress: 0,
    };
    this.shared.log.push(record);
    try {
      if (record.requestBytes > PAYLOAD_LIMIT_BYTES) {
        fail(this.shared.oversizeError, `the request payload (${record.requestBytes} bytes) exceeds 5 MB`);
      }
      for (const op of ops) {
        if (this.shared.api < versionNumber(op.minApi)) {
          fail('ApiNotFound', `${op.location} needs ExcelApi ${op.minApi}`, op.location);
        }
        try {
          op.run();
        } catch (error) {
          if (error instanceof FakeOfficeError && error.debugInfo.errorLocation === '') {
            throw new FakeOfficeError(error.code, error.message, op.location);
          }
          throw error;
        }
      }
      record.calculationSuspended = this.calculationSuspended;
      record.longestRangesAddress = this.longestRanges;
      record.responseBytes = this.responseBytes;
      if (this.responseBytes > PAYLOAD_LIMIT_BYTES) {
        fail(
          this.shared.oversizeError === 'GeneralException'
            ? 'GeneralException'
            : 'ResponsePayloadSizeLimitExceeded',
          `the response payload (${this.responseBytes} bytes) exceeds 5 MB`,
        );
      }
      for (const deliver of this.staged) deliver();
      for (const object of created) object.settle();
    } catch (error) {
      record.failed = error instanceof FakeOfficeError ? error.code : 'Error';
      throw error;
    } finally {
      this.staged = [];
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Proxies

type LoadArgument = string | string[] | { select?: string; expand?: string } | undefined;

function propertyList(arg: LoadArgument): string[] {
  if (arg === undefined) return [];
  const text = Array.isArray(arg) ? arg.join(',') : typeof arg === 'string' ? arg : (arg.select ?? '');
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

abstract class FakeObject {
  protected readonly loaded = new Map<string, unknown>();
  private nullState: boolean | undefined;

  constructor(
    readonly context: FakeRequestContext,
    readonly path: string,
    protected readonly orNull = false,
  ) {
    context.register(this);
  }

  /** Whether the object exists now (null objects do not). */
  protected abstract exists(): boolean;

  /** Loadable scalar properties and how to read them from the model. */
  protected abstract properties(): Record<string, () => unknown>;

  /** After the sync that created it, a null object knows it is one (loaded automatically). */
  settle(): void {
    if (!this.orNull) {
      this.nullState = false;
      return;
    }
    try {
      this.nullState = !this.exists();
    } catch {
      this.nullState = true;
    }
  }

  get isNullObject(): boolean {
    if (this.nullState === undefined) notLoaded('isNullObject');
    return this.nullState;
  }

  /** Resolution for an operation: null objects and missing items fail the sync. */
  protected ensureUsable(): void {
    if (!this.exists()) fail('ItemNotFound', `${this.path} does not exist`);
  }

  protected read<T>(property: string): T {
    if (!this.loaded.has(property)) notLoaded(property);
    return this.loaded.get(property) as T;
  }

  protected op(location: string, wire: unknown, run: () => void, minApi = '1.1', ...args: unknown[]): void {
    this.context.enqueue(
      {
        target: this,
        wire: { path: this.path, ...(wire as object) },
        minApi,
        location,
        run: () => {
          // Loading a null object is allowed (it loads nothing); anything else on it fails.
          if (!(this.orNull && wire !== null && typeof wire === 'object' && 'load' in wire))
            this.ensureUsable();
          run();
        },
      },
      ...args,
    );
  }

  protected loadMinApi(): string {
    return '1.1';
  }

  load(arg?: LoadArgument): this {
    const table = this.properties();
    const names = propertyList(arg);
    const wanted = names.length === 0 ? Object.keys(table) : names;
    this.op(
      `${this.constructor.name.replace('Fake', '')}.load`,
      { load: wanted },
      () => {
        if (this.orNull && !this.exists()) return;
        const values: Record<string, unknown> = {};
        for (const name of wanted) {
          const getter = table[name];
          if (getter === undefined) fail('InvalidArgument', `cannot load "${name}" on ${this.path}`);
          values[name] = getter();
        }
        this.context.stage(values, () => {
          for (const [k, v] of Object.entries(values)) this.loaded.set(k, v);
        });
      },
      this.loadMinApi(),
    );
    return this;
  }

  toJSON(): Record<string, unknown> {
    return Object.fromEntries(this.loaded);
  }
}

function notLoaded(property: string): never {
  return fail(
    'PropertyNotLoaded',
    `The property '${property}' is not available. Before reading the property's value, call the load method on the containing object and call "context.sync()" on the associated request context.`,
  );
}

class FakeClientResult<T> {
  private state: { value: T } | undefined;

  constructor(private readonly context: FakeRequestContext) {}

  deliver(value: T): void {
    this.context.stage(value, () => {
      this.state = { value };
    });
  }

  get value(): T {
    if (this.state === undefined) notLoaded('value');
    return this.state.value;
  }
}

class FakeApplication extends FakeObject {
  constructor(context: FakeRequestContext) {
    super(context, 'application');
  }
  protected exists(): boolean {
    return true;
  }
  protected properties(): Record<string, () => unknown> {
    return { calculationMode: () => 'Automatic' };
  }
  suspendApiCalculationUntilNextSync(): void {
    this.op(
      'Application.suspendApiCalculationUntilNextSync',
      { call: 'suspendApiCalculationUntilNextSync' },
      () => {
        this.context.suspendCalculation();
      },
      '1.6',
    );
  }
}

class FakeWorkbookObject extends FakeObject {
  readonly worksheets: FakeWorksheetCollection;

  constructor(context: FakeRequestContext) {
    super(context, 'workbook');
    this.worksheets = new FakeWorksheetCollection(context);
  }
  protected exists(): boolean {
    return true;
  }
  protected properties(): Record<string, () => unknown> {
    return { name: () => 'Book1.xlsx', use1904DateSystem: () => this.context.shared.typing.date1904 };
  }
  get use1904DateSystem(): boolean {
    return this.read('use1904DateSystem');
  }
  get application(): FakeApplication {
    return this.context.application;
  }
  /** Threaded comments (ExcelApi 1.10), absent from a script that predates them. */
  get comments(): FakeCommentCollection | undefined {
    if (this.context.shared.served < versionNumber('1.10')) return undefined;
    return new FakeCommentCollection(this.context, `${this.path}.comments`);
  }
}

type SheetSpec = { kind: 'active' } | { kind: 'name'; name: string };

class FakeWorksheetCollection extends FakeObject {
  private itemsState: FakeWorksheet[] | undefined;

  constructor(context: FakeRequestContext) {
    super(context, 'workbook.worksheets');
  }
  protected exists(): boolean {
    return true;
  }
  protected properties(): Record<string, () => unknown> {
    return { count: () => this.context.model.sheets.length };
  }
  get items(): FakeWorksheet[] {
    if (this.itemsState === undefined) notLoaded('items');
    return this.itemsState;
  }
  getActiveWorksheet(): FakeWorksheet {
    return new FakeWorksheet(this.context, { kind: 'active' }, `${this.path}.getActiveWorksheet()`);
  }
  getItem(name: string): FakeWorksheet {
    return new FakeWorksheet(
      this.context,
      { kind: 'name', name },
      `${this.path}.getItem(${JSON.stringify(name)})`,
    );
  }
  getItemOrNullObject(name: string): FakeWorksheet {
    const sheet = new FakeWorksheet(
      this.context,
      { kind: 'name', name },
      `${this.path}.getItemOrNullObject(${JSON.stringify(name)})`,
      true,
    );
    this.op(
      'WorksheetCollection.getItemOrNullObject',
      { call: 'getItemOrNullObject', args: [name] },
      () => {},
      '1.4',
    );
    return sheet;
  }
  add(name: string): FakeWorksheet {
    this.op('WorksheetCollection.add', { call: 'add', args: [name] }, () => {
      if (this.context.model.sheet(name) !== undefined)
        fail('ItemAlreadyExists', `a sheet named "${name}" exists`);
      if (name.length > 31 || /[\\/?*[\]:]/.test(name)) fail('InvalidArgument', `bad sheet name "${name}"`);
      this.context.model.sheets.push(new SheetModel(name));
    });
    return new FakeWorksheet(
      this.context,
      { kind: 'name', name },
      `${this.path}.add(${JSON.stringify(name)})`,
    );
  }
  override load(arg?: LoadArgument): this {
    const names = propertyList(arg);
    if (!names.some((n) => n.startsWith('items'))) return super.load(arg);
    this.op('WorksheetCollection.load', { load: names }, () => {
      const sheets = this.context.model.sheets.map((s) => s.name);
      this.context.stage(sheets, () => {
        this.itemsState = sheets.map((name) => {
          const sheet = new FakeWorksheet(
            this.context,
            { kind: 'name', name },
            `${this.path}.getItem(${JSON.stringify(name)})`,
          );
          sheet.settle();
          sheet.deliverName(name);
          return sheet;
        });
      });
    });
    return this;
  }
}

class FakeWorksheet extends FakeObject {
  constructor(
    context: FakeRequestContext,
    private readonly spec: SheetSpec,
    path: string,
    orNull = false,
  ) {
    super(context, path, orNull);
  }

  model(): SheetModel | undefined {
    return this.spec.kind === 'active' ? this.context.model.active : this.context.model.sheet(this.spec.name);
  }
  sheet(): SheetModel {
    const sheet = this.model();
    if (sheet === undefined) fail('ItemNotFound', `${this.path} does not exist`);
    return sheet;
  }
  protected exists(): boolean {
    return this.model() !== undefined;
  }
  protected properties(): Record<string, () => unknown> {
    return {
      name: () => this.sheet().name,
      position: () => this.context.model.sheets.indexOf(this.sheet()),
      visibility: () => this.sheet().visibility,
    };
  }
  /** Worksheet.visibility (ExcelApi 1.1): one of the three values; a workbook keeps a visible sheet. */
  set visibility(value: string) {
    this.op('Worksheet.visibility', { set: 'visibility', value }, () => {
      if (value !== 'Visible' && value !== 'Hidden' && value !== 'VeryHidden') {
        fail('InvalidArgument', `visibility "${value}" is not Visible, Hidden or VeryHidden`);
      }
      const sheet = this.sheet();
      const model = this.context.model;
      if (value !== 'Visible' && model.sheets.every((s) => s === sheet || s.visibility !== 'Visible')) {
        fail('InvalidOperation', 'a workbook keeps at least one visible sheet');
      }
      sheet.visibility = value;
    });
  }
  deliverName(name: string): void {
    this.loaded.set('name', name);
  }
  get name(): string {
    return this.read('name');
  }

  getRange(address?: string): FakeRange {
    return new FakeRange(
      this.context,
      this,
      address === undefined ? { kind: 'whole' } : { kind: 'address', address },
      `${this.path}.getRange(${address === undefined ? '' : JSON.stringify(address)})`,
    );
  }
  getRangeByIndexes(row: number, column: number, rows: number, columns: number): FakeRange {
    return new FakeRange(
      this.context,
      this,
      {
        kind: 'indexes',
        area: { top: row + 1, left: column + 1, bottom: row + rows, right: column + columns },
      },
      `${this.path}.getRangeByIndexes(${row},${column},${rows},${columns})`,
      false,
      '1.7',
    );
  }
  getRanges(address?: string): FakeRangeAreas {
    return new FakeRangeAreas(
      this.context,
      this,
      address,
      `${this.path}.getRanges(${JSON.stringify(address ?? '')})`,
    );
  }
  getUsedRange(valuesOnly = false): FakeRange {
    return new FakeRange(
      this.context,
      this,
      { kind: 'used', valuesOnly },
      `${this.path}.getUsedRange(${valuesOnly})`,
    );
  }
  getUsedRangeOrNullObject(valuesOnly = false): FakeRange {
    return new FakeRange(
      this.context,
      this,
      { kind: 'used', valuesOnly },
      `${this.path}.getUsedRangeOrNullObject(${valuesOnly})`,
      true,
      '1.4',
    );
  }
  get tables(): FakeTableCollection {
    return new FakeTableCollection(this.context, this, `${this.path}.tables`);
  }
  get charts(): FakeChartCollection {
    return new FakeChartCollection(this.context, this, `${this.path}.charts`);
  }
  /** Undefined when the served office.js predates notes, whatever isSetSupported says. */
  get notes(): FakeNoteCollection | undefined {
    if (this.context.shared.served < versionNumber('1.18')) return undefined;
    return new FakeNoteCollection(this.context, this, `${this.path}.notes`);
  }
  get protection(): FakeWorksheetProtection {
    return new FakeWorksheetProtection(this.context, this, `${this.path}.protection`);
  }
  get freezePanes(): FakeFreezePanes {
    return new FakeFreezePanes(this.context, this, `${this.path}.freezePanes`);
  }
  activate(): void {
    this.op('Worksheet.activate', { call: 'activate' }, () => {
      this.context.model.active = this.sheet();
    });
  }
  delete(): void {
    this.op('Worksheet.delete', { call: 'delete' }, () => {
      const model = this.context.model;
      const sheet = this.sheet();
      if (model.sheets.length === 1) fail('InvalidOperation', 'a workbook keeps at least one sheet');
      model.sheets = model.sheets.filter((s) => s !== sheet);
      model.tables = model.tables.filter((t) => t.sheet !== sheet);
      if (model.active === sheet) model.active = model.sheets[0] as SheetModel;
    });
  }
}

// Charts (ExcelApi 1.1): ChartCollection.add/getItem/load items, Chart.name, title.text,
// setPosition, delete. getItemOrNullObject is ExcelApi 1.4, so a 1.1 add-in finds a chart by
// loading the names first.

class FakeChartCollection extends FakeObject {
  private itemsState: FakeChart[] | undefined;

  constructor(
    context: FakeRequestContext,
    private readonly worksheet: FakeWorksheet,
    path: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return this.worksheet.model() !== undefined;
  }
  protected properties(): Record<string, () => unknown> {
    return { count: () => this.worksheet.sheet().charts.length };
  }
  get count(): number {
    return this.read('count');
  }
  get items(): FakeChart[] {
    if (this.itemsState === undefined) notLoaded('items');
    return this.itemsState;
  }
  /** `load('items/name')` (or `'name'`, or `items`): the charts with their names. */
  override load(arg?: LoadArgument): this {
    const names = propertyList(arg);
    if (names.some((n) => n === 'count')) return super.load(arg);
    this.op('ChartCollection.load', { load: names }, () => {
      const sheet = this.worksheet.sheet();
      const charts = [...sheet.charts];
      this.context.stage(
        charts.map((c) => ({ name: c.name })),
        () => {
          this.itemsState = charts.map((model, i) => {
            const chart = new FakeChart(
              this.context,
              () => (sheet.charts.includes(model) ? model : undefined),
              `${this.path}.items[${i}]`,
            );
            chart.deliverName(model.name);
            return chart;
          });
        },
      );
    });
    return this;
  }
  add(type: string, sourceData: FakeRange, seriesBy = 'Auto'): FakeChart {
    let created: ChartModel | undefined;
    this.op(
      'ChartCollection.add',
      { call: 'add', args: [type, sourceData instanceof FakeRange ? sourceData.path : sourceData, seriesBy] },
      () => {
        if (!CHART_TYPES.includes(type) || type === 'Invalid')
          fail('InvalidArgument', `"${type}" is not an Excel.ChartType`);
        if (!SERIES_BY.includes(seriesBy))
          fail('InvalidArgument', `"${seriesBy}" is not an Excel.ChartSeriesBy`);
        if (!(sourceData instanceof FakeRange)) fail('InvalidArgument', 'sourceData must be a Range');
        const source = sourceData.area();
        const sheet = this.worksheet.sheet();
        // Excel names new charts "Chart N" with the next free number on the sheet.
        let n = sheet.charts.length + 1;
        while (sheet.charts.some((c) => c.name === `Chart ${n}`)) n++;
        created = { name: `Chart ${n}`, type, source, seriesBy, title: '', position: null };
        sheet.charts.push(created);
      },
      '1.1',
      sourceData,
    );
    return new FakeChart(this.context, () => created, `${this.path}.add()`);
  }
  /** The first chart of that name; ItemNotFound at the sync when there is none. */
  getItem(name: string): FakeChart {
    const sheetOf = () => this.worksheet.model();
    return new FakeChart(
      this.context,
      () => sheetOf()?.charts.find((c) => c.name === name),
      `${this.path}.getItem(${JSON.stringify(name)})`,
    );
  }
  getItemOrNullObject(name: string): FakeChart {
    const sheetOf = () => this.worksheet.model();
    const chart = new FakeChart(
      this.context,
      () => sheetOf()?.charts.find((c) => c.name === name),
      `${this.path}.getItemOrNullObject(${JSON.stringify(name)})`,
      true,
    );
    chart.requireApi('1.4');
    return chart;
  }
}

class FakeChart extends FakeObject {
  constructor(
    context: FakeRequestContext,
    private readonly lookup: () => ChartModel | undefined,
    path: string,
    orNull = false,
  ) {
    super(context, path, orNull);
  }
  private minApi = '1.1';
  requireApi(version: string): void {
    this.minApi = version;
    // Marked as a load so a missing chart does not fail the sync: that is what OrNullObject is for.
    this.op(
      'ChartCollection.getItemOrNullObject',
      { load: [], call: 'getItemOrNullObject' },
      () => undefined,
      version,
    );
  }
  protected override loadMinApi(): string {
    return this.minApi;
  }
  private chart(): ChartModel {
    const chart = this.lookup();
    if (chart === undefined) fail('ItemNotFound', `${this.path} does not exist`);
    return chart;
  }
  protected exists(): boolean {
    return this.lookup() !== undefined;
  }
  protected properties(): Record<string, () => unknown> {
    return { name: () => this.chart().name, chartType: () => this.chart().type };
  }
  deliverName(name: string): void {
    this.loaded.set('name', name);
  }
  get name(): string {
    return this.read('name');
  }
  set name(value: string) {
    this.op('Chart.name', { set: { name: value } }, () => {
      if (value.length > 255) fail('InvalidArgument', 'a chart name is at most 255 characters');
      this.chart().name = value;
    });
  }
  get title(): { text: string } {
    const setText = (value: string) =>
      this.op('ChartTitle.text', { set: { 'title/text': value } }, () => {
        this.chart().title = value;
      });
    return {
      get text(): string {
        return notLoaded('title/text');
      },
      set text(value: string) {
        setText(value);
      },
    };
  }
  setPosition(startCell: FakeRange | string, endCell?: FakeRange | string): void {
    const text = (cell: FakeRange | string) => (typeof cell === 'string' ? cell : cell.path);
    this.op(
      'Chart.setPosition',
      { call: 'setPosition', args: [text(startCell), endCell === undefined ? null : text(endCell)] },
      () => {
        const single = (cell: FakeRange | string): string => {
          if (typeof cell !== 'string') return areaAddress(cell.area().area);
          const parsed = parseAddressList(cell);
          if (parsed.length !== 1) fail('InvalidArgument', `"${cell}" is not one cell or range`);
          return cell.replace(/\$/g, '');
        };
        this.chart().position = {
          start: single(startCell),
          end: endCell === undefined ? null : single(endCell),
        };
      },
    );
  }
  delete(): void {
    this.op('Chart.delete', { call: 'delete' }, () => {
      const chart = this.chart();
      for (const sheet of this.context.model.sheets) sheet.charts = sheet.charts.filter((c) => c !== chart);
    });
  }
}

type RangeSpec =
  | { kind: 'address'; address: string }
  | { kind: 'indexes'; area: Area }
  | { kind: 'used'; valuesOnly: boolean }
  | { kind: 'whole' }
  | { kind: 'cell'; row: number; column: number }
  | { kind: 'table'; lookup: () => TableModel | undefined };

class FakeRange extends FakeObject {
  private formatState: FakeRangeFormat | undefined;
  private validationState: FakeDataValidation | undefined;

  constructor(
    context: FakeRequestContext,
    readonly worksheet: FakeWorksheet,
    private readonly spec: RangeSpec,
    path: string,
    orNull = false,
    private readonly minApi = '1.1',
  ) {
    super(context, path, orNull);
  }

  /** Range.select (ExcelApi 1.1): activates the range's sheet and selects the range. */
  select(): void {
    this.op('Range.select', { call: 'select' }, () => {
      const at = this.where();
      if (at === null) fail('ItemNotFound', 'the range does not exist');
      this.context.model.active = at.sheet;
      this.context.model.selection = { sheet: at.sheet, area: at.area };
    });
  }

  /** The sheet and area this range stands for now; throws like Excel for a bad or too long address. */
  where(): { sheet: SheetModel; area: Area } | null {
    const sheet = this.worksheet.sheet();
    switch (this.spec.kind) {
      case 'address': {
        if (this.spec.address.length >= ADDRESS_LIMIT_CHARS) {
          fail('InvalidArgument', `the address has ${this.spec.address.length} characters (limit 8,192)`);
        }
        const parts = parseAddressList(this.spec.address);
        if (parts.length !== 1) fail('InvalidArgument', `getRange takes one area ("${this.spec.address}")`);
        return { sheet, area: areaOnSheet(parts[0] as ParsedArea, sheet) };
      }
      case 'indexes':
        if (this.spec.area.top < 1 || this.spec.area.left < 1 || this.spec.area.bottom < this.spec.area.top) {
          fail('InvalidArgument', 'bad range indexes');
        }
        return { sheet, area: this.spec.area };
      case 'used': {
        const area = sheet.used(this.spec.valuesOnly);
        if (area === null)
          return this.orNull ? null : { sheet, area: { top: 1, left: 1, bottom: 1, right: 1 } };
        return { sheet, area };
      }
      case 'whole':
        return { sheet, area: { top: 1, left: 1, bottom: MAX_ROWS, right: MAX_COLUMNS } };
      case 'cell':
        return {
          sheet,
          area: {
            top: this.spec.row,
            left: this.spec.column,
            bottom: this.spec.row,
            right: this.spec.column,
          },
        };
      case 'table': {
        const table = this.spec.lookup();
        if (table === undefined) return null;
        return { sheet: table.sheet, area: { ...table.area } };
      }
    }
  }

  area(): { sheet: SheetModel; area: Area } {
    const at = this.where();
    if (at === null) fail('ItemNotFound', `${this.path} is a null object`);
    return at;
  }

  protected exists(): boolean {
    return this.worksheet.model() !== undefined && this.where() !== null;
  }
  protected override loadMinApi(): string {
    return this.minApi;
  }
  protected properties(): Record<string, () => unknown> {
    const grid = (read: (cell: CellModel | undefined) => unknown) => () => {
      const { sheet, area } = this.area();
      const cells = (area.bottom - area.top + 1) * (area.right - area.left + 1);
      if (cells > 5_000_000) fail('InvalidArgument', 'a range is limited to 5,000,000 cells for reading');
      const out: unknown[][] = [];
      for (let r = area.top; r <= area.bottom; r++) {
        const row: unknown[] = [];
        // The cells a merge covers, other than its top-left one, read as empty.
        for (let c = area.left; c <= area.right; c++)
          row.push(read(hiddenByMerge(sheet, r, c) ? undefined : sheet.get(r, c)));
        out.push(row);
      }
      return out;
    };
    return {
      address: () => qualify(this.area().sheet.name, areaAddress(this.area().area)),
      rowIndex: () => this.area().area.top - 1,
      columnIndex: () => this.area().area.left - 1,
      rowCount: () => this.area().area.bottom - this.area().area.top + 1,
      columnCount: () => this.area().area.right - this.area().area.left + 1,
      cellCount: () => {
        const { area } = this.area();
        return (area.bottom - area.top + 1) * (area.right - area.left + 1);
      },
      values: grid((cell) => cell?.value ?? ''),
      text: grid((cell) => String(cell?.value ?? '')),
      numberFormat: grid((cell) => cell?.numberFormat ?? 'General'),
      formulas: grid((cell) => cell?.formulaText ?? cell?.value ?? ''),
      valueTypes: grid(valueTypeOf),
    };
  }

  get address(): string {
    return this.read('address');
  }
  get rowIndex(): number {
    return this.read('rowIndex');
  }
  get columnIndex(): number {
    return this.read('columnIndex');
  }
  get rowCount(): number {
    return this.read('rowCount');
  }
  get columnCount(): number {
    return this.read('columnCount');
  }
  get cellCount(): number {
    return this.read('cellCount');
  }
  get text(): string[][] {
    return this.read('text');
  }
  get formulas(): unknown[][] {
    return this.read('formulas');
  }

  get values(): FakeCell[][] {
    return this.read('values');
  }
  get valueTypes(): string[][] {
    return this.read('valueTypes');
  }
  set values(input: unknown) {
    this.op(
      'Range.values',
      { set: 'values', value: input },
      () => {
        const { sheet, area } = this.area();
        assertWritable(sheet);
        forEachInput(area, input, 'values', (r, c, v) => {
          if (v === null || v === undefined) return;
          writeCell(sheet.ensure(r, c), v, this.context.shared.typing);
        });
        // AutoExpand (AutoCorrect's "include new rows and columns in table") applies to API writes
        // too: text written into the header row right beside a table widens it.
        for (const table of this.context.model.tables) {
          if (table.sheet !== sheet || area.left !== table.area.right + 1) continue;
          if (area.top > table.area.top || area.bottom < table.area.top) continue;
          if (String(sheet.get(table.area.top, area.left)?.value ?? '') === '') continue;
          table.area.right = area.right;
        }
      },
      this.minApi,
    );
  }

  get numberFormat(): string[][] {
    return this.read('numberFormat');
  }
  set numberFormat(input: unknown) {
    this.op(
      'Range.numberFormat',
      { set: 'numberFormat', value: input },
      () => {
        const { sheet, area } = this.area();
        assertWritable(sheet);
        forEachInput(area, input, 'numberFormat', (r, c, v) => {
          if (v === null || v === undefined) return;
          if (typeof v !== 'string') fail('InvalidArgument', 'a number format is text');
          sheet.ensure(r, c).numberFormat = v;
        });
      },
      this.minApi,
    );
  }

  get format(): FakeRangeFormat {
    this.formatState ??= new FakeRangeFormat(this.context, this, `${this.path}.format`, () => {
      const { sheet, area } = this.area();
      return { sheet, areas: [area] };
    });
    return this.formatState;
  }

  get dataValidation(): FakeDataValidation {
    this.validationState ??= new FakeDataValidation(this.context, this, `${this.path}.dataValidation`);
    return this.validationState;
  }

  getTables(fullyContained = false): FakeTableScopedCollection {
    return new FakeTableScopedCollection(
      this.context,
      this,
      fullyContained,
      `${this.path}.getTables(${fullyContained})`,
    );
  }

  clear(applyTo: 'All' | 'Formats' | 'Contents' = 'All'): void {
    this.op('Range.clear', { call: 'clear', args: [applyTo] }, () => {
      const { sheet, area } = this.area();
      assertWritable(sheet);
      for (const [, , cell] of sheet.existing(area)) {
        if (applyTo !== 'Formats') {
          cell.value = '';
          cell.formula = false;
          cell.error = false;
          delete cell.formulaText;
        }
        if (applyTo !== 'Contents') {
          cell.numberFormat = 'General';
          cell.fill = null;
          cell.bold = false;
        }
        if (applyTo === 'All') cell.note = null;
      }
    });
  }
}

class FakeRangeAreas extends FakeObject {
  private formatState: FakeRangeFormat | undefined;

  constructor(
    context: FakeRequestContext,
    private readonly worksheet: FakeWorksheet,
    private readonly addressText: string | undefined,
    path: string,
  ) {
    super(context, path);
  }

  areas(): { sheet: SheetModel; areas: Area[] } {
    const sheet = this.worksheet.sheet();
    if (this.addressText === undefined)
      return { sheet, areas: [{ top: 1, left: 1, bottom: MAX_ROWS, right: MAX_COLUMNS }] };
    this.context.noteRangesAddress(this.addressText);
    if (this.addressText.length >= ADDRESS_LIMIT_CHARS) {
      fail('InvalidArgument', `the address has ${this.addressText.length} characters (limit 8,192)`);
    }
    const parsed = parseAddressList(this.addressText);
    const limit = this.context.shared.rangesAreaLimit;
    if (parsed.length > limit)
      fail('InvalidArgument', `getRanges takes at most ${limit} areas (got ${parsed.length})`);
    return { sheet, areas: parsed.map((p) => areaOnSheet(p, sheet)) };
  }
  protected exists(): boolean {
    return this.worksheet.model() !== undefined;
  }
  protected override loadMinApi(): string {
    return '1.9';
  }
  protected properties(): Record<string, () => unknown> {
    return {
      address: () => {
        const { sheet, areas } = this.areas();
        return areas.map((a) => qualify(sheet.name, areaAddress(a))).join(',');
      },
      areaCount: () => this.areas().areas.length,
      cellCount: () =>
        this.areas().areas.reduce((n, a) => n + (a.bottom - a.top + 1) * (a.right - a.left + 1), 0),
    };
  }
  get address(): string {
    return this.read('address');
  }
  get areaCount(): number {
    return this.read('areaCount');
  }
  get format(): FakeRangeFormat {
    this.formatState ??= new FakeRangeFormat(
      this.context,
      this,
      `${this.path}.format`,
      () => this.areas(),
      '1.9',
    );
    return this.formatState;
  }
}

type Areas = () => { sheet: SheetModel; areas: Area[] };

function cellsOf(
  areas: Areas,
  each: (cell: CellModel, row: number, column: number) => void,
  write = true,
): void {
  const { sheet, areas: list } = areas();
  if (write) assertWritable(sheet);
  for (const area of list) {
    const cells = (area.bottom - area.top + 1) * (area.right - area.left + 1);
    if (cells > 5_000_000) fail('InvalidArgument', 'too many cells in one formatting call');
    for (let r = area.top; r <= area.bottom; r++)
      for (let c = area.left; c <= area.right; c++) each(sheet.ensure(r, c), r, c);
  }
}

class FakeRangeFormat extends FakeObject {
  readonly fill: FakeRangeFill;
  readonly font: FakeRangeFont;

  constructor(
    context: FakeRequestContext,
    private readonly owner: FakeObject,
    path: string,
    private readonly areas: Areas,
    private readonly minApi = '1.1',
  ) {
    super(context, path);
    this.fill = new FakeRangeFill(context, `${path}.fill`, areas, minApi);
    this.font = new FakeRangeFont(context, `${path}.font`, areas, minApi);
  }
  protected exists(): boolean {
    return true;
  }
  protected properties(): Record<string, () => unknown> {
    return { columnWidth: () => 64 };
  }
  set columnWidth(width: number) {
    this.op(
      'RangeFormat.columnWidth',
      { set: 'columnWidth', value: width },
      () => {
        const { sheet, areas } = this.areas();
        assertWritable(sheet);
        for (const area of areas)
          for (let c = area.left; c <= area.right; c++) sheet.columnWidths.set(c, width);
      },
      this.minApi === '1.9' ? '1.9' : '1.2',
      this.owner,
    );
  }
}

class FakeRangeFill extends FakeObject {
  constructor(
    context: FakeRequestContext,
    path: string,
    private readonly areas: Areas,
    private readonly minApi: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return true;
  }
  protected properties(): Record<string, () => unknown> {
    return {
      color: () => {
        const colors = new Set<string | null>();
        cellsOf(this.areas, (cell) => colors.add(cell.fill), false);
        return colors.size === 1 ? [...colors][0] : null;
      },
    };
  }
  get color(): string {
    return this.read('color');
  }
  set color(color: string) {
    this.op(
      'RangeFill.color',
      { set: 'color', value: color },
      () => {
        if (!/^#[0-9a-fA-F]{6}$/.test(color))
          fail('InvalidArgument', `fill colour "${color}" is not #RRGGBB`);
        cellsOf(this.areas, (cell) => {
          cell.fill = color.toUpperCase();
        });
      },
      this.minApi,
    );
  }
  clear(): void {
    this.op(
      'RangeFill.clear',
      { call: 'clear' },
      () => {
        cellsOf(this.areas, (cell) => {
          cell.fill = null;
        });
      },
      this.minApi,
    );
  }
}

class FakeRangeFont extends FakeObject {
  constructor(
    context: FakeRequestContext,
    path: string,
    private readonly areas: Areas,
    private readonly minApi: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return true;
  }
  protected properties(): Record<string, () => unknown> {
    return { bold: () => false };
  }
  set bold(bold: boolean) {
    this.op(
      'RangeFont.bold',
      { set: 'bold', value: bold },
      () => {
        cellsOf(this.areas, (cell) => {
          cell.bold = bold;
        });
      },
      this.minApi,
    );
  }
}

class FakeDataValidation extends FakeObject {
  constructor(
    context: FakeRequestContext,
    private readonly range: FakeRange,
    path: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return true;
  }
  protected override loadMinApi(): string {
    return '1.8';
  }
  private cells(each: (cell: CellModel) => void): void {
    const { sheet, area } = this.range.area();
    for (let r = area.top; r <= area.bottom; r++)
      for (let c = area.left; c <= area.right; c++) each(sheet.ensure(r, c));
  }
  protected properties(): Record<string, () => unknown> {
    const uniform = (read: (v: ValidationSnapshot | null) => unknown) => () => {
      const seen = new Set<string>();
      let value: unknown = null;
      this.cells((cell) => {
        value = read(cell.validation);
        seen.add(JSON.stringify(value));
      });
      return seen.size === 1 ? value : null;
    };
    return {
      rule: uniform((v) => v?.rule ?? {}),
      type: uniform((v) => (v === null ? 'None' : Object.keys(v.rule)[0])),
      errorAlert: uniform((v) => v?.errorAlert ?? null),
    };
  }
  get rule(): Record<string, unknown> {
    return this.read('rule');
  }
  set rule(rule: unknown) {
    this.op(
      'DataValidation.rule',
      { set: 'rule', value: rule },
      () => {
        const checked = checkRule(rule);
        assertWritable(this.range.area().sheet);
        this.cells((cell) => {
          cell.validation = { rule: checked, errorAlert: cell.validation?.errorAlert ?? null };
        });
      },
      '1.8',
    );
  }
  set errorAlert(alert: unknown) {
    this.op(
      'DataValidation.errorAlert',
      { set: 'errorAlert', value: alert },
      () => {
        const copy = JSON.parse(JSON.stringify(alert)) as Record<string, unknown>;
        this.cells((cell) => {
          if (cell.validation === null) fail('InvalidOperation', 'set a rule before its error alert');
          cell.validation = { ...cell.validation, errorAlert: copy };
        });
      },
      '1.8',
    );
  }
  clear(): void {
    this.op(
      'DataValidation.clear',
      { call: 'clear' },
      () => {
        const { sheet, area } = this.range.area();
        assertWritable(sheet);
        for (const [, , cell] of sheet.existing(area)) cell.validation = null;
      },
      '1.8',
    );
  }
}

class FakeTable extends FakeObject {
  constructor(
    context: FakeRequestContext,
    private readonly lookup: () => TableModel | undefined,
    path: string,
    private readonly worksheet?: FakeWorksheet,
    orNull = false,
  ) {
    super(context, path, orNull);
  }
  protected exists(): boolean {
    return this.lookup() !== undefined;
  }
  protected properties(): Record<string, () => unknown> {
    return { name: () => this.lookup()?.name };
  }
  get name(): string {
    return this.read('name');
  }
  deliverName(name: string): void {
    this.loaded.set('name', name);
  }
  /** The table's range, header row included (a null range for a null table). */
  getRange(): FakeRange {
    const table = this.lookup;
    const sheetName = () => table()?.sheet.name ?? '';
    const worksheet =
      this.worksheet ??
      new FakeWorksheet(this.context, { kind: 'name', name: sheetName() }, `${this.path}.worksheet`);
    return new FakeRange(
      this.context,
      worksheet,
      { kind: 'table', lookup: table },
      `${this.path}.getRange()`,
      true,
    );
  }
  get columns(): FakeTableColumnCollection {
    return new FakeTableColumnCollection(this.context, this.lookup, `${this.path}.columns`);
  }
}

/**
 * A table's columns. add() at the end (index null/undefined) widens the table by one column: cells
 * right of the table in its rows move right, as Excel inserts table cells; the header gets the name.
 */
class FakeTableColumnCollection extends FakeObject {
  constructor(
    context: FakeRequestContext,
    private readonly lookup: () => TableModel | undefined,
    path: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return this.lookup() !== undefined;
  }
  protected properties(): Record<string, () => unknown> {
    return { count: () => this.area().right - this.area().left + 1 };
  }
  private area(): Area {
    const table = this.lookup();
    if (table === undefined) fail('ItemNotFound', 'the table does not exist');
    return table.area;
  }
  add(index?: number | null, values?: unknown, name?: string): void {
    this.op(
      'TableColumnCollection.add',
      { call: 'add', args: [index ?? null, values ?? null, name ?? null] },
      () => {
        const table = this.lookup();
        if (table === undefined) fail('ItemNotFound', 'the table does not exist');
        if (index !== undefined && index !== null)
          fail('NotImplemented', 'the fake adds table columns at the end only');
        if (values !== undefined && values !== null)
          fail('NotImplemented', 'the fake adds empty table columns only');
        const { sheet, area } = table;
        assertWritable(sheet);
        const at = area.right + 1;
        for (let row = area.top; row <= area.bottom; row++) {
          const cells = sheet.rows.get(row);
          if (cells === undefined) continue;
          const moved = [...cells.entries()].filter(([c]) => c >= at).sort((a, b) => b[0] - a[0]);
          for (const [c, cell] of moved) {
            cells.delete(c);
            cells.set(c + 1, cell);
          }
        }
        const taken = new Set<string>();
        for (let c = area.left; c <= area.right; c++)
          taken.add(String(sheet.get(area.top, c)?.value ?? '').toLowerCase());
        let header =
          name ?? `${this.context.shared.locale === 'en-US' ? 'Column' : '列'}${at - area.left + 1}`;
        const base = header;
        for (let n = 2; taken.has(header.toLowerCase()); n++) header = `${base}${n}`;
        sheet.ensure(area.top, at).value = header;
        area.right = at;
      },
      '1.4',
    );
  }
}

function addTable(
  context: FakeRequestContext,
  sheet: SheetModel,
  area: Area,
  hasHeaders: boolean,
): TableModel {
  const model = context.model;
  assertWritable(sheet);
  if (model.tables.some((t) => t.sheet === sheet && overlaps(t.area, area))) {
    fail('InvalidArgument', "A table can't overlap another table.");
  }
  if (sheet.merged.some((m) => overlaps(m, area))) {
    fail('InvalidArgument', "A table can't overlap a range that contains merged cells.");
  }
  if (!hasHeaders) fail('NotImplemented', 'the fake adds tables with a header row only');
  const blank = context.shared.locale === 'en-US' ? 'Column' : '列';
  const seen = new Set<string>();
  for (let c = area.left; c <= area.right; c++) {
    const cell = sheet.ensure(area.top, c);
    let name = String(cell.value).trim();
    if (name === '') name = `${blank}${c - area.left + 1}`;
    const base = name;
    for (let n = 2; seen.has(name.toLowerCase()); n++) name = `${base}${n}`;
    seen.add(name.toLowerCase());
    cell.value = name;
    cell.formula = false;
  }
  const table = { name: `Table${++model.tableCounter}`, sheet, area };
  model.tables.push(table);
  return table;
}

class FakeTableCollection extends FakeObject {
  private itemsState: FakeTable[] | undefined;

  constructor(
    context: FakeRequestContext,
    private readonly worksheet: FakeWorksheet,
    path: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return this.worksheet.model() !== undefined;
  }
  protected properties(): Record<string, () => unknown> {
    return { count: () => this.list().length };
  }
  private list(): TableModel[] {
    const sheet = this.worksheet.sheet();
    return this.context.model.tables.filter((t) => t.sheet === sheet);
  }
  get items(): FakeTable[] {
    if (this.itemsState === undefined) notLoaded('items');
    return this.itemsState;
  }
  add(address: FakeRange | string, hasHeaders: boolean): FakeTable {
    let created: TableModel | undefined;
    const minApi = typeof address === 'string' ? '1.1' : '1.3';
    this.op(
      'TableCollection.add',
      { call: 'add', args: [typeof address === 'string' ? address : address.path, hasHeaders] },
      () => {
        const { sheet, area } =
          typeof address === 'string'
            ? {
                sheet: this.worksheet.sheet(),
                area: areaOnSheet(parseAddressList(address)[0] as ParsedArea, this.worksheet.sheet()),
              }
            : address.area();
        created = addTable(this.context, sheet, area, hasHeaders);
      },
      minApi,
      address,
    );
    return new FakeTable(this.context, () => created, `${this.path}.add()`);
  }
  getCount(): FakeClientResult<number> {
    const result = new FakeClientResult<number>(this.context);
    this.op(
      'TableCollection.getCount',
      { call: 'getCount' },
      () => result.deliver(this.list().length),
      '1.4',
    );
    return result;
  }
}

class FakeTableScopedCollection extends FakeObject {
  private itemsState: FakeTable[] | undefined;

  constructor(
    context: FakeRequestContext,
    private readonly range: FakeRange,
    private readonly fullyContained: boolean,
    path: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return true;
  }
  protected override loadMinApi(): string {
    return '1.9';
  }
  private list(): TableModel[] {
    const { sheet, area } = this.range.area();
    return this.context.model.tables.filter(
      (t) =>
        t.sheet === sheet &&
        (this.fullyContained
          ? t.area.top >= area.top &&
            t.area.bottom <= area.bottom &&
            t.area.left >= area.left &&
            t.area.right <= area.right
          : overlaps(t.area, area)),
    );
  }
  protected properties(): Record<string, () => unknown> {
    return { count: () => this.list().length };
  }
  get items(): FakeTable[] {
    if (this.itemsState === undefined) notLoaded('items');
    return this.itemsState;
  }
  /** The first table the range touches (ExcelApi 1.9); using it when there is none fails (ItemNotFound). */
  getFirst(): FakeTable {
    const table = new FakeTable(
      this.context,
      () => this.list()[0],
      `${this.path}.getFirst()`,
      this.range.worksheet,
    );
    this.op(
      'TableScopedCollection.getFirst',
      { call: 'getFirst' },
      () => {
        if (this.list().length === 0) fail('ItemNotFound', 'the range has no table');
      },
      '1.9',
    );
    return table;
  }
  getCount(): FakeClientResult<number> {
    const result = new FakeClientResult<number>(this.context);
    this.op(
      'TableScopedCollection.getCount',
      { call: 'getCount' },
      () => result.deliver(this.list().length),
      '1.9',
    );
    return result;
  }
  override load(arg?: LoadArgument): this {
    const names = propertyList(arg);
    if (!names.some((n) => n.startsWith('items'))) return super.load(arg);
    this.op(
      'TableScopedCollection.load',
      { load: names },
      () => {
        const tables = this.list();
        this.context.stage(
          tables.map((t) => t.name),
          () => {
            this.itemsState = tables.map((t) => {
              const table = new FakeTable(
                this.context,
                () => this.context.model.tables.find((x) => x === t),
                `${this.path}.items`,
              );
              table.settle();
              table.deliverName(t.name);
              return table;
            });
          },
        );
      },
      '1.9',
    );
    return this;
  }
}

class FakeNote extends FakeObject {
  constructor(
    context: FakeRequestContext,
    private readonly worksheet: FakeWorksheet,
    private readonly at: { row: number; column: number },
    path: string,
    orNull = false,
  ) {
    super(context, path, orNull);
  }
  private cell(): CellModel | undefined {
    const cell = this.worksheet.model()?.get(this.at.row, this.at.column);
    return cell?.note === null ? undefined : cell;
  }
  protected exists(): boolean {
    return this.cell() !== undefined;
  }
  protected override loadMinApi(): string {
    return '1.18';
  }
  protected properties(): Record<string, () => unknown> {
    return { content: () => this.cell()?.note, authorName: () => 'Fake User' };
  }
  deliver(content: string): void {
    this.loaded.set('content', content);
  }
  get content(): string {
    return this.read('content');
  }
  set content(content: string) {
    this.op(
      'Note.content',
      { set: 'content', value: content },
      () => {
        const cell = this.cell();
        if (cell === undefined) fail('ItemNotFound', 'the note does not exist');
        cell.note = content;
      },
      '1.18',
    );
  }
  delete(): void {
    this.op(
      'Note.delete',
      { call: 'delete' },
      () => {
        const cell = this.cell();
        if (cell === undefined) fail('ItemNotFound', 'the note does not exist');
        cell.note = null;
      },
      '1.18',
    );
  }
  getLocation(): FakeRange {
    return new FakeRange(
      this.context,
      this.worksheet,
      { kind: 'cell', ...this.at },
      `${this.path}.getLocation()`,
      false,
      '1.18',
    );
  }
}

class FakeNoteCollection extends FakeObject {
  private itemsState: FakeNote[] | undefined;

  constructor(
    context: FakeRequestContext,
    private readonly worksheet: FakeWorksheet,
    path: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return this.worksheet.model() !== undefined;
  }
  protected override loadMinApi(): string {
    return '1.18';
  }
  private list(): { row: number; column: number; content: string }[] {
    const sheet = this.worksheet.sheet();
    const out: { row: number; column: number; content: string }[] = [];
    for (const [row, cells] of sheet.rows)
      for (const [column, cell] of cells)
        if (cell.note !== null) out.push({ row, column, content: cell.note });
    return out.sort((a, b) => a.row - b.row || a.column - b.column);
  }
  protected properties(): Record<string, () => unknown> {
    return { count: () => this.list().length };
  }
  get items(): FakeNote[] {
    if (this.itemsState === undefined) notLoaded('items');
    return this.itemsState;
  }
  override load(arg?: LoadArgument): this {
    const names = propertyList(arg);
    if (!names.some((n) => n.startsWith('items'))) return super.load(arg);
    this.op(
      'NoteCollection.load',
      { load: names },
      () => {
        const notes = this.list();
        this.context.stage(
          notes.map((n) => n.content),
          () => {
            this.itemsState = notes.map((n, i) => {
              const note = new FakeNote(this.context, this.worksheet, n, `${this.path}.items[${i}]`);
              note.settle();
              note.deliver(n.content);
              return note;
            });
          },
        );
      },
      '1.18',
    );
    return this;
  }
  private cellOf(target: FakeRange | string): { row: number; column: number } {
    const { area } =
      typeof target === 'string'
        ? { area: areaOnSheet(parseAddressList(target)[0] as ParsedArea, this.worksheet.sheet()) }
        : target.area();
    if (area.top !== area.bottom || area.left !== area.right)
      fail('InvalidArgument', 'a note goes on a single cell');
    return { row: area.top, column: area.left };
  }
  add(cellAddress: FakeRange | string, content: string): FakeNote {
    const at = { row: 0, column: 0 };
    this.op(
      'NoteCollection.add',
      { call: 'add', args: [typeof cellAddress === 'string' ? cellAddress : cellAddress.path, content] },
      () => {
        Object.assign(at, this.cellOf(cellAddress));
        assertWritable(this.worksheet.sheet());
        const cell = this.worksheet.sheet().ensure(at.row, at.column);
        if (cell.note !== null) fail('InvalidArgument', 'the cell already has a note');
        // A cell holds a threaded comment or a note, never both.
        if (cell.comment === true) fail('InvalidOperation', 'the cell already has a threaded comment');
        if (typeof content !== 'string') fail('InvalidArgument', 'note content is text');
        cell.note = content;
      },
      '1.18',
      cellAddress,
    );
    return new FakeNote(this.context, this.worksheet, at, `${this.path}.add()`);
  }
  getItem(key: string): FakeNote {
    const at = parseArea(key).area;
    return new FakeNote(
      this.context,
      this.worksheet,
      { row: at.top, column: at.left },
      `${this.path}.getItem(${JSON.stringify(key)})`,
    );
  }
  getItemOrNullObject(key: string): FakeNote {
    const at = parseArea(key).area;
    const note = new FakeNote(
      this.context,
      this.worksheet,
      { row: at.top, column: at.left },
      `${this.path}.getItemOrNullObject(${JSON.stringify(key)})`,
      true,
    );
    this.op(
      'NoteCollection.getItemOrNullObject',
      { call: 'getItemOrNullObject', args: [key] },
      () => {},
      '1.18',
    );
    return note;
  }
  getCount(): FakeClientResult<number> {
    const result = new FakeClientResult<number>(this.context);
    this.op(
      'NoteCollection.getCount',
      { call: 'getCount' },
      () => result.deliver(this.list().length),
      '1.18',
    );
    return result;
  }
}

class FakeWorksheetProtection extends FakeObject {
  constructor(
    context: FakeRequestContext,
    private readonly worksheet: FakeWorksheet,
    path: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return this.worksheet.model() !== undefined;
  }
  protected override loadMinApi(): string {
    return '1.2';
  }
  protected properties(): Record<string, () => unknown> {
    return { protected: () => this.worksheet.sheet().protected };
  }
  get protected(): boolean {
    return this.read('protected');
  }
}

/** Threaded comments of the workbook: where they are (getLocation) is what the add-in needs. */
class FakeComment extends FakeObject {
  constructor(
    context: FakeRequestContext,
    private readonly at: { sheet: SheetModel; row: number; column: number },
    path: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return this.at.sheet.get(this.at.row, this.at.column)?.comment === true;
  }
  protected properties(): Record<string, () => unknown> {
    return { content: () => 'comment' };
  }
  getLocation(): { load(p?: string): { address: string }; address: string } {
    const address = qualify(
      this.at.sheet.name,
      areaAddress({
        top: this.at.row,
        left: this.at.column,
        bottom: this.at.row,
        right: this.at.column,
      }),
    );
    const location = { address: '' };
    const context = this.context;
    return {
      load: () => {
        this.op(
          'Comment.getLocation',
          { call: 'getLocation' },
          () =>
            context.stage(address, () => {
              location.address = address;
            }),
          '1.10',
        );
        return location;
      },
      get address() {
        return location.address;
      },
    };
  }
}

class FakeCommentCollection extends FakeObject {
  private itemsState: FakeComment[] | undefined;
  protected exists(): boolean {
    return true;
  }
  protected override loadMinApi(): string {
    return '1.10';
  }
  protected properties(): Record<string, () => unknown> {
    return { count: () => this.list().length };
  }
  private list(): { sheet: SheetModel; row: number; column: number }[] {
    const out: { sheet: SheetModel; row: number; column: number }[] = [];
    for (const sheet of this.context.model.sheets)
      for (const [row, cells] of sheet.rows)
        for (const [column, cell] of cells) if (cell.comment === true) out.push({ sheet, row, column });
    return out;
  }
  get items(): FakeComment[] {
    if (this.itemsState === undefined) notLoaded('items');
    return this.itemsState;
  }
  override load(arg?: LoadArgument): this {
    const names = propertyList(arg);
    if (!names.some((n) => n.startsWith('items'))) return super.load(arg);
    this.op(
      'CommentCollection.load',
      { load: names },
      () => {
        const list = this.list();
        this.context.stage(list.length, () => {
          this.itemsState = list.map((at, i) => {
            const comment = new FakeComment(this.context, at, `${this.path}.items[${i}]`);
            comment.settle();
            return comment;
          });
        });
      },
      '1.10',
    );
    return this;
  }
}

class FakeFreezePanes extends FakeObject {
  constructor(
    context: FakeRequestContext,
    private readonly worksheet: FakeWorksheet,
    path: string,
  ) {
    super(context, path);
  }
  protected exists(): boolean {
    return this.worksheet.model() !== undefined;
  }
  protected properties(): Record<string, () => unknown> {
    return {};
  }
  freezeRows(count = 1): void {
    this.op(
      'WorksheetFreezePanes.freezeRows',
      { call: 'freezeRows', args: [count] },
      () => {
        this.worksheet.sheet().frozenRows = count;
      },
      '1.7',
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// The public fake

/** Reading the workbook from a test, without going through the API (no syncs, no payload). */
export interface FakeWorkbook {
  sheetNames(): string[];
  activeSheetName(): string;
  /** The selection `Range.select()` made last (sheet and A1 address), or null. */
  selection(): { sheet: string; address: string } | null;
  activate(sheet: string): void;
  /** Worksheet.visibility of a sheet: Visible, Hidden or VeryHidden. */
  visibility(sheet: string): string;
  addSheet(name: string, values?: FakeCell[][]): void;
  /** Values of a range; `''` for empty cells. */
  values(sheet: string, address: string): (string | number | boolean)[][];
  /** Types into the sheet as a person would (values only), starting at the top-left of `address`. */
  setValues(sheet: string, address: string, values: FakeCell[][]): void;
  cell(sheet: string, address: string): CellSnapshot;
  fills(sheet: string, address: string): (string | null)[][];
  numberFormats(sheet: string, address: string): string[][];
  tables(): { name: string; sheet: string; address: string }[];
  /** The charts on a sheet, in creation order, with their source (qualified A1) and placement. */
  charts(sheet: string): {
    name: string;
    type: string;
    source: string;
    seriesBy: string;
    title: string;
    position: { start: string; end: string | null } | null;
  }[];
  notes(sheet: string): { address: string; content: string }[];
  addNote(sheet: string, address: string, content: string): void;
  frozenRows(sheet: string): number;
  columnWidth(sheet: string, column: string): number | undefined;
  /** Last row and column holding a value. */
  usedRange(sheet: string): string | null;
  /** Cells whose value Excel took as a formula. */
  formulaCells(sheet: string): string[];
}

export interface FakeExcelNamespace {
  run<T>(batch: (context: FakeRequestContext) => Promise<T>): Promise<T>;
  run<T>(
    options: { delayForCellEdit?: boolean },
    batch: (context: FakeRequestContext) => Promise<T>,
  ): Promise<T>;
  ErrorCodes: Record<string, string>;
  /** office.js defines a class per object it knows; present only when the served script has it. */
  NoteCollection?: unknown;
  CommentCollection?: unknown;
}

export interface FakeOfficeNamespace {
  context: {
    requirements: { isSetSupported(name: string, minVersion?: string | number): boolean };
    displayLanguage: string;
    host: string;
    platform: string;
  };
  HostType: { Excel: string };
  PlatformType: { OfficeOnline: string };
  onReady(
    callback?: (info: { host: string; platform: string }) => void,
  ): Promise<{ host: string; platform: string }>;
}

export interface FakeOffice {
  Office: FakeOfficeNamespace;
  Excel: FakeExcelNamespace;
  workbook: FakeWorkbook;
  syncCount(): number;
  payloads(): SyncRecord[];
  /** Forgets counted syncs and payloads (the workbook stays). */
  resetCounters(): void;
  /** Changes the supported ExcelApi version. */
  setApiVersion(version: string): void;
  /** The user starts (true) or stops (false) typing in a cell. */
  setCellEditMode(on: boolean): void;
  /** Turns sheet protection on or off, as a person would in Excel. */
  protectSheet(sheet: string, on: boolean): void;
}

export type { FakeRequestContext };

export function createFakeOffice(options: FakeOfficeOptions = {}): FakeOffice {
  const shared: Shared = {
    model: new WorkbookModel(options.sheets ?? []),
    api: versionNumber(options.apiVersion ?? '1.18'),
    served: versionNumber(options.servedApiVersion ?? options.apiVersion ?? '1.18'),
    syncs: 0,
    log: [],
    typing: { date1904: options.date1904 === true, year: options.currentYear ?? 2026 },
    locale: options.locale ?? 'zh-CN',
    oversizeError: options.oversizeError ?? 'RequestPayloadSizeLimitExceeded',
    rangesAreaLimit: options.rangesAreaLimit ?? RANGES_AREA_LIMIT,
    cellEdit: null,
  };
  const sheetOf = (name: string): SheetModel => {
    const sheet = shared.model.sheet(name);
    if (sheet === undefined) throw new Error(`no sheet "${name}"`);
    return sheet;
  };
  const areaOf = (sheet: SheetModel, address: string): Area =>
    areaOnSheet(parseAddressList(address)[0] as ParsedArea, sheet);
  const mapArea = <T>(
    sheetName: string,
    address: string,
    read: (cell: CellModel | undefined) => T,
  ): T[][] => {
    const sheet = sheetOf(sheetName);
    const area = areaOf(sheet, address);
    const out: T[][] = [];
    for (let r = area.top; r <= area.bottom; r++) {
      const row: T[] = [];
      for (let c = area.left; c <= area.right; c++) row.push(read(sheet.get(r, c)));
      out.push(row);
    }
    return out;
  };

  const workbook: FakeWorkbook = {
    sheetNames: () => shared.model.sheets.map((s) => s.name),
    activeSheetName: () => shared.model.active.name,
    selection: () => {
      const sel = shared.model.selection;
      return sel === null ? null : { sheet: sel.sheet.name, address: areaAddress(sel.area) };
    },
    activate: (name) => {
      shared.model.active = sheetOf(name);
    },
    visibility: (name) => sheetOf(name).visibility,
    addSheet: (name, values = []) => {
      const sheet = new SheetModel(name);
      values.forEach((row, r) =>
        row.forEach((v, c) => {
          if (v !== null && v !== '') sheet.ensure(r + 1, c + 1).value = v;
        }),
      );
      shared.model.sheets.push(sheet);
    },
    values: (sheet, address) => mapArea(sheet, address, (cell) => cell?.value ?? ''),
    setValues: (sheetName, address, values) => {
      const sheet = sheetOf(sheetName);
      const { top, left } = areaOf(sheet, address);
      values.forEach((row, r) =>
        row.forEach((v, c) => {
          const cell = sheet.ensure(top + r, left + c);
          initialCell(cell, v);
          cell.formula = false;
        }),
      );
    },
    cell: (sheetName, address) => {
      const cell = mapArea(sheetName, address, (c) => c)[0]?.[0] ?? blankCell();
      return { ...cell };
    },
    fills: (sheet, address) => mapArea(sheet, address, (cell) => cell?.fill ?? null),
    numberFormats: (sheet, address) => mapArea(sheet, address, (cell) => cell?.numberFormat ?? 'General'),
    tables: () =>
      shared.model.tables.map((t) => ({ name: t.name, sheet: t.sheet.name, address: areaAddress(t.area) })),
    charts: (sheetName) =>
      sheetOf(sheetName).charts.map((c) => ({
        name: c.name,
        type: c.type,
        source: qualify(c.source.sheet.name, areaAddress(c.source.area)),
        seriesBy: c.seriesBy,
        title: c.title,
        position: c.position,
      })),
    notes: (sheetName) => {
      const out: { address: string; content: string; row: number; column: number }[] = [];
      for (const [row, cells] of sheetOf(sheetName).rows) {
        for (const [column, cell] of cells) {
          if (cell.note !== null)
            out.push({ address: `${columnName(column)}${row}`, content: cell.note, row, column });
        }
      }
      return out
        .sort((a, b) => a.row - b.row || a.column - b.column)
        .map(({ address, content }) => ({ address, content }));
    },
    addNote: (sheetName, address, content) => {
      const sheet = sheetOf(sheetName);
      const { top, left } = areaOf(sheet, address);
      sheet.ensure(top, left).note = content;
    },
    frozenRows: (sheetName) => sheetOf(sheetName).frozenRows,
    columnWidth: (sheetName, column) => sheetOf(sheetName).columnWidths.get(columnNumber(column)),
    usedRange: (sheetName) => {
      const area = sheetOf(sheetName).used(true);
      return area === null ? null : areaAddress(area);
    },
    formulaCells: (sheetName) => {
      const out: string[] = [];
      for (const [row, cells] of sheetOf(sheetName).rows) {
        for (const [column, cell] of cells) if (cell.formula) out.push(`${columnName(column)}${row}`);
      }
      return out;
    },
  };

  const supported = (name: string, minVersion?: string | number): boolean =>
    name === 'ExcelApi' && (minVersion === undefined || shared.api >= versionNumber(String(minVersion)));

  const Excel: FakeExcelNamespace = {
    async run<T>(
      first: { delayForCellEdit?: boolean } | ((context: FakeRequestContext) => Promise<T>),
      second?: (context: FakeRequestContext) => Promise<T>,
    ): Promise<T> {
      const batch = typeof first === 'function' ? first : second;
      if (batch === undefined) throw new TypeError('Excel.run needs a batch function');
      const delay = typeof first === 'function' ? false : first.delayForCellEdit === true;
      const context = new FakeRequestContext(shared, delay);
      try {
        const result = await batch(context);
        if (context.hasPending()) await context.sync();
        return result;
      } finally {
        context.closed = true;
      }
    },
    ErrorCodes: {
      invalidArgument: 'InvalidArgument',
      itemNotFound: 'ItemNotFound',
      apiNotFound: 'ApiNotFound',
      requestPayloadSizeLimitExceeded: 'RequestPayloadSizeLimitExceeded',
      responsePayloadSizeLimitExceeded: 'ResponsePayloadSizeLimitExceeded',
      accessDenied: 'AccessDenied',
      generalException: 'GeneralException',
      invalidOperationInCellEditMode: 'InvalidOperationInCellEditMode',
    },
    ...(shared.served >= versionNumber('1.18') ? { NoteCollection: FakeNoteCollection } : {}),
    ...(shared.served >= versionNumber('1.10') ? { CommentCollection: FakeCommentCollection } : {}),
  };

  const info = { host: 'Excel', platform: 'OfficeOnline' };
  const Office: FakeOfficeNamespace = {
    context: {
      requirements: { isSetSupported: supported },
      displayLanguage: 'zh-CN',
      host: 'Excel',
      platform: 'OfficeOnline',
    },
    HostType: { Excel: 'Excel' },
    PlatformType: { OfficeOnline: 'OfficeOnline' },
    onReady: async (callback) => {
      callback?.(info);
      return info;
    },
  };

  return {
    Office,
    Excel,
    workbook,
    syncCount: () => shared.syncs,
    payloads: () => shared.log.map((r) => ({ ...r })),
    resetCounters: () => {
      shared.syncs = 0;
      shared.log = [];
    },
    setApiVersion: (version) => {
      shared.api = versionNumber(version);
    },
    setCellEditMode: (on) => {
      if (on && shared.cellEdit === null) {
        let end = () => {};
        const until = new Promise<void>((resolve) => {
          end = resolve;
        });
        shared.cellEdit = { until, end };
      } else if (!on && shared.cellEdit !== null) {
        const { end } = shared.cellEdit;
        shared.cellEdit = null;
        end();
      }
    },
    protectSheet: (name, on) => {
      sheetOf(name).protected = on;
    },
  };
}

/**
 * Installs the fake as `Office` and `Excel` on a global object (the browser test injects it into the
 * task pane this way) and keeps it as `__fakeOffice` there, for the test to inspect the workbook.
 */
export function installFakeOffice(target: object, options: FakeOfficeOptions = {}): FakeOffice {
  const fake = createFakeOffice(options);
  Reflect.set(target, 'Office', fake.Office);
  Reflect.set(target, 'Excel', fake.Excel);
  Reflect.set(target, '__fakeOffice', fake);
  return fake;
}

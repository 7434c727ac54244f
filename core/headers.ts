/**
 * Header detection for legacy registration sheets (客户报备表): finds the header row (skipping titles,
 * 填表说明 notes and merged group rows), maps each column to a canonical field, and classifies later rows.
 *
 * Over 600 lines as one file: header detection and row classification score the same synonym
 * tables and normalised texts; the synonym lists (headerSynonyms), example rows and phone columns
 * are split out. Not yet split: the scoring of one header cell could stand alone.
 */
import { isPlaceholder, withoutInvisibles } from './cellText.js';
import {
  exampleColumnsOf,
  exampleEvidence,
  type ExampleColumns,
  type ExampleEvidence,
} from './exampleRow.js';
import { HEADER_SYNONYMS, LEAD_SOURCE_WORDS, PARTNER_WORDS, type HeaderSynonym } from './headerSynonyms.js';
import { FIELDS, FIELD_SPECS, RESULT_COLUMNS, type CellValue, type Field } from './schema.js';
import { toSimplified } from './simplified.js';
import { isSkippedRowHint } from './skippedRowHint.js';

export interface FieldCandidate {
  field: Field;
  /** 0..1. */
  confidence: number;
}

export interface ColumnMapping {
  /** 1-based (A = 1). */
  column: number;
  /** The header cell's text as written (trimmed); for a two-row header the lower cell, or the upper one when the lower is empty. */
  header: string;
  /** For a two-row header: the text of the group/upper cell above this column, when it differs from `header`. */
  group?: string;
  field: Field | null;
  confidence: number;
  /** Other fields this column could be, best first (including fields another column won). */
  alternatives?: FieldCandidate[];
}

export interface HeaderDetection {
  /** 1-based sheet row of the (last) header line, the one right above the data. */
  headerRow: number;
  /** 1-based rows the header occupies: `[headerRow]`, or `[groupRow, headerRow]` for a two-row header. */
  headerRows: number[];
  /** 1-based row of the first row under the header that classifyRow calls data (blank, note, total, example rows skipped). */
  dataStartRow: number;
  /** Every column with header text, left to right. */
  columns: ColumnMapping[];
  unmapped: { column: number; header: string }[];
  /** 0..1: how confidently the header's columns map (0.7 × mean confidence of mapped columns + 0.3 × share mapped). */
  confidence: number;
}

export interface DetectHeaderOptions {
  /** How many rows from the top may hold the header; default 30. */
  maxScanRows?: number;
}

/** `example`: a template's filled-in example row (填写示例, core/exampleRow.ts). */
export type RowKind = 'data' | 'blank' | 'total' | 'note' | 'header-repeat' | 'example';

/** A column maps to a field only at or above this confidence; weaker matches stay alternatives. */
export const MIN_MAPPING_CONFIDENCE = 0.5;
/** Weaker matches are not worth reporting even as alternatives. */
const MIN_CANDIDATE_CONFIDENCE = 0.2;
/** A two-row reading must beat the single rows by this much (about half a field) unless the upper row is a merged group row. */
const TWO_ROW_MARGIN = 0.5;
/** Header cells are labels; longer text is a sentence (a note or a data value). */
const MAX_HEADER_TEXT = 30;
/** How many rows under the header are read to decide what a bare 渠道 column holds. */
const CHANNEL_SAMPLE_ROWS = 200;

// ---------------------------------------------------------------------------------------------------
// Text normalisation

/**
 * Converting the header to simplified (rather than the synonym lists to traditional) also handles
 * variant characters and headers that mix both scripts (客戶名称).
 */
function simplifiedHeader(text: string): string {
  // eslint-disable-next-line no-control-regex -- ASCII-only text has nothing to convert
  return /^[\x00-\x7f]*$/.test(text) ? text : toSimplified(text);
}

/** Invisible characters removed, full-width → half-width (NFKC), simplified, lower case. */
function canonicalCase(text: string): string {
  return simplifiedHeader(withoutInvisibles(text).normalize('NFKC')).toLowerCase();
}

/**
 * A compact key for comparing a row's cells with the header (header-repeat rows, 合计 labels): width,
 * case, whitespace, invisible characters and markers ignored. No traditional→simplified step: it
 * runs on every cell of every row, and a repeated header is a copy of the header, in the same script.
 */
function rowTextKey(text: string): string {
  // Most cells (names, numbers, codes, plain Chinese) are already their key: checked char by char,
  // which costs a fraction of the normalisation they would otherwise go through (every cell of every row).
  if (isOwnRowTextKey(text)) return text;
  return withoutInvisibles(text)
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s*※:#]/g, '');
}

/**
 * Whether rowTextKey would return the text unchanged: it holds only printable ASCII that is no
 * upper-case letter and none of `*:#`, and CJK unified ideographs (U+4E00–U+9FFF). NFKC leaves
 * both as they are (no compatibility decomposition, nothing there composes), lower-casing too, and
 * none is whitespace, invisible or a marker the key drops.
 */
function isOwnRowTextKey(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      c >= 0x4e00
        ? c > 0x9fff
        : c < 0x21 || c > 0x7e || (c >= 0x41 && c <= 0x5a) || c === 0x2a || c === 0x3a || c === 0x23
    )
      return false;
  }
  return true;
}

const HAN = /\p{Script=Han}/u;
const OPEN_BRACKETS = '([{【〔〖《<';
const CLOSE_BRACKETS = ')]}】〕〗》>';
const BRACKETED = /[([{【〔〖《<]([^()[\]{}【】〔〕〖〗《》<>]*)[)\]}】〕〗》>]/g;
/** Alternatives written in one header cell (电话/手机, 客户名称、公司名称). */
const SEGMENT_SEPARATORS = /[/、|,;&+]/;
/** Trailing words that do not change what a header is about (预计签约金额万元 is still an amount). */
const NOISE_SUFFIXES = new Set(['万元', '元', '万', '人民币', '必填', '选填', '可选', '号']);
/**
 * The year an amount is for, written after it: 预计金额（万元） over 首年 reads 预计金额 首年, the
 * amount expected in the deal's first year, which is what the record's expectedAmount holds (R15
 * ranks by it). Only the first year: a later year's amount (次年, 第二年) is no field of the record.
 */
const MONEY_PERIOD_SUFFIXES = new Set(['首年', '第一年', '首年度']);
/** 联系人姓名 is the contact's name: the field is decided by what comes before the name word. */
const NAME_SUFFIXES = ['姓名', '名称', '名字', '全称'];

/** One part of a header: its Han characters (compact) and its Latin words. */
interface HeaderSegment {
  han: string[];
  latin: string[];
}

interface PreparedHeader {
  segments: HeaderSegment[];
  /** Han text and Latin words of the whole header, notes in brackets removed: what the guards read. */
  hanText: string;
  latinWords: string[];
  /** `报备人：张三`: a label with its value, not a header cell. */
  labelWithValue: boolean;
}

function latinWordsOf(text: string): string[] {
  const words = text.replace(/(?<=[a-z0-9])[-.'’](?=[a-z0-9])/g, '').match(/[a-z0-9]+/g) ?? [];
  // Plural and singular compare equal (notes / note, needs / need); both sides go through this.
  return words.map((w) => (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w));
}

function segmentOf(text: string): HeaderSegment {
  return { han: [...text].filter((ch) => HAN.test(ch)), latin: latinWordsOf(text) };
}

function hasLetters(text: string): boolean {
  return /[a-z0-9]/.test(text) || HAN.test(text);
}

function prepareHeader(raw: string): PreparedHeader {
  let text = canonicalCase(raw).replace(/[*※#]/g, ' ');
  const notes: string[] = [];
  for (let previous = ''; previous !== text;) {
    previous = text;
    text = text.replace(BRACKETED, (_match, inner: string) => {
      notes.push(inner);
      return ' ';
    });
  }
  text = [...text]
    .map((ch) => (OPEN_BRACKETS.includes(ch) || CLOSE_BRACKETS.includes(ch) ? ' ' : ch))
    .join('');
  // A header that is only a bracketed note, e.g. `(备注)`, is read from the note.
  if (!hasLetters(text)) text = notes.join(' ');
  let labelWithValue = false;
  const colon = text.search(/[:：]/);
  if (colon >= 0) {
    labelWithValue = hasLetters(text.slice(colon + 1));
    text = text.slice(0, colon);
  }
  const segments = text
    .split(SEGMENT_SEPARATORS)
    .map(segmentOf)
    .filter((s) => s.han.length + s.latin.length > 0);
  return {
    segments,
    hanText: segments.map((s) => s.han.join('')).join(''),
    latinWords: segments.flatMap((s) => s.latin),
    labelWithValue,
  };
}

// ---------------------------------------------------------------------------------------------------
// Synonym index

type Script = 'han' | 'latin';

interface IndexedSynonym {
  field: Field;
  units: string[];
  weight: number;
  exactOnly: boolean;
}

interface SynonymIndex {
  /** Keyed by `script:compact text`. */
  exact: Map<string, { field: Field; weight: number }[]>;
  containable: Record<Script, IndexedSynonym[]>;
}

let synonymIndex: SynonymIndex | undefined;

function unitsOf(text: string, script: Script): string[] {
  const segment = segmentOf(canonicalCase(text));
  return script === 'han' ? segment.han : segment.latin;
}

function exactKey(script: Script, units: readonly string[]): string {
  return `${script}:${units.join('')}`;
}

function buildSynonymIndex(): SynonymIndex {
  const index: SynonymIndex = { exact: new Map(), containable: { han: [], latin: [] } };
  const add = (field: Field, synonym: HeaderSynonym, script: Script) => {
    const spec = typeof synonym === 'string' ? { text: synonym } : synonym;
    const units = unitsOf(spec.text, script);
    const entry = { field, units, weight: spec.weight ?? 1, exactOnly: spec.exactOnly ?? false };
    const key = exactKey(script, units);
    index.exact.set(key, [...(index.exact.get(key) ?? []), { field, weight: entry.weight }]);
    if (!entry.exactOnly) index.containable[script].push(entry);
  };
  for (const field of FIELDS) {
    for (const synonym of HEADER_SYNONYMS[field].zh) add(field, synonym, 'han');
    for (const synonym of HEADER_SYNONYMS[field].en) add(field, synonym, 'latin');
  }
  return index;
}

function getSynonymIndex(): SynonymIndex {
  synonymIndex ??= buildSynonymIndex();
  return synonymIndex;
}

// ---------------------------------------------------------------------------------------------------
// Matching one header text

type Scores = Map<Field, number>;

function raise(scores: Scores, field: Field, confidence: number): void {
  if (confidence > (scores.get(field) ?? 0)) scores.set(field, confidence);
}

function indexOfRun(units: readonly string[], run: readonly string[], from: number): number {
  outer: for (let start = from; start + run.length <= units.length; start++) {
    for (let k = 0; k < run.length; k++) if (units[start + k] !== run[k]) continue outer;
    return start;
  }
  return -1;
}

interface Occurrence {
  synonym: IndexedSynonym;
  start: number;
  end: number;
}

/**
 * Scores one script's part of a header. Exact synonym: its weight. A header containing a synonym
 * scores lower, more so when the synonym is a modifier rather than the head: Chinese (and mostly
 * English) compounds put the head last, so 联系人电话 is a phone and 客户类型 is a type, not a customer.
 * A synonym inside a longer matching synonym (日期 in 预计签约日期) does not count on its own.
 */
function scoreUnits(units: readonly string[], script: Script): Scores {
  const scores: Scores = new Map();
  if (units.length === 0) return scores;
  const index = getSynonymIndex();
  const exact = index.exact.get(exactKey(script, units)) ?? [];
  for (const { field, weight } of exact) raise(scores, field, weight);
  // Every shorter synonym lies inside the exact one (渠道 in 来源渠道), so none counts on its own.
  if (exact.length > 0) return scores;

  const text = units.join(script === 'han' ? '' : ' ');
  const nameSuffix =
    script === 'han'
      ? NAME_SUFFIXES.find((s) => text.endsWith(s) && text.length > s.length)
      : units.length > 1 && units[units.length - 1] === 'name'
        ? 'name'
        : undefined;
  if (nameSuffix !== undefined) {
    const rest = script === 'han' ? [...text.slice(0, -nameSuffix.length)] : units.slice(0, -1);
    for (const { field, weight } of index.exact.get(exactKey(script, rest)) ?? [])
      raise(scores, field, weight * 0.95);
  }

  const occurrences: Occurrence[] = [];
  for (const synonym of index.containable[script]) {
    if (synonym.units.length >= units.length) continue;
    for (
      let at = indexOfRun(units, synonym.units, 0);
      at >= 0;
      at = indexOfRun(units, synonym.units, at + 1)
    ) {
      occurrences.push({ synonym, start: at, end: at + synonym.units.length });
    }
  }
  for (const occurrence of occurrences) {
    const length = occurrence.end - occurrence.start;
    const insideLonger = occurrences.some(
      (other) =>
        other.end - other.start > length && other.start <= occurrence.start && other.end >= occurrence.end,
    );
    if (insideLonger) continue;
    const trailing = units.slice(occurrence.end).join(script === 'han' ? '' : ' ');
    const isHead =
      trailing === '' ||
      NOISE_SUFFIXES.has(trailing) ||
      (MONEY_PERIOD_SUFFIXES.has(trailing) && FIELD_SPECS[occurrence.synonym.field].kind === 'money');
    const coverage = length / units.length;
    const confidence = occurrence.synonym.weight * (isHead ? 0.6 + 0.35 * coverage : 0.2 + 0.35 * coverage);
    raise(scores, occurrence.synonym.field, confidence);
  }
  return scores;
}

/**
 * 手机, 移动电话, 手机号码, Mobile, Cell: a header naming a mobile number; 行動電話 (Taiwan) and 手提電話
 * (Hong Kong) are the mobile in traditional-character sheets.
 */
const MOBILE_WORDS_ZH = /手机|移动电话|行动电话|手提电话/;
const MOBILE_WORDS_EN = new Set(['mobile', 'cell', 'cellphone']);

/** Whether a header names a mobile number (手机, 联系人手机, 移动电话, Mobile, Cell phone). */
export function isMobileHeader(text: string): boolean {
  const header = prepareHeader(text);
  return MOBILE_WORDS_ZH.test(header.hanText) || header.latinWords.some((w) => MOBILE_WORDS_EN.has(w));
}

/** Fields naming someone other than the customer: a phone qualified by one is theirs (报备人手机). */
const OTHER_PARTY_FIELDS: ReadonlySet<Field> = new Set(['registrant', 'team', 'channel']);
/**
 * People a form names who map to no field and are not the customer: whoever referred the customer
 * (推荐人, 介绍人, 引荐人, Referrer), a partner's person (Agent) and our own staff by their part in
 * the form (邀约人, 审核人, 审批人, 录入人, 填表人, 制表人). 对接人 and 负责人 are left out: sheets
 * use them for the customer's contact.
 */
const OTHER_PARTY_PERSON_ZH = /推荐人|介绍人|引荐人|邀约人|审核人|审批人|录入人|填表人|制表人/;
const OTHER_PARTY_PERSON_EN: ReadonlySet<string> = new Set(['referrer', 'referral', 'introducer', 'agent']);
/**
 * What is left of a phone header's confidence for the customer's phone when it names someone else's:
 * under MIN_MAPPING_CONFIDENCE, so it is never mapped by itself, and over MIN_CANDIDATE_CONFIDENCE,
 * so it is still offered for a person to choose.
 */
const OTHER_PARTY_PHONE_FACTOR = 0.4;

/**
 * Whether a phone header names the phone of someone other than the customer: the registrant's,
 * the team's or the channel partner's (报备人手机, 业务员电话, 渠道手机, Sales rep mobile), the
 * partner's own contact (渠道联系人电话, Partner contact phone), the referrer's (推荐人电话) or a
 * staff member's named by their part in the form (录入人电话). A sheet carries these beside the
 * customer's phone; taken as the customer's (or its fallback), every customer of a registrant would
 * share the registrant's number and match one another.
 */
export function isOtherPartyPhoneHeader(text: string): boolean {
  return namesOtherPartyPhone(prepareHeader(text));
}

function namesOtherPartyPhone(header: PreparedHeader): boolean {
  const at = header.hanText.search(PHONE_WORDS_ZH);
  const latinAt = header.latinWords.findIndex((w) => PHONE_WORDS_EN.has(w));
  const hanQualifier = at > 0 ? header.hanText.slice(0, at) : '';
  const latinQualifier = latinAt > 0 ? header.latinWords.slice(0, latinAt) : [];
  if (OTHER_PARTY_PERSON_ZH.test(hanQualifier) || latinQualifier.some((w) => OTHER_PARTY_PERSON_EN.has(w))) {
    return true;
  }
  return [hanQualifier, latinQualifier.join(' ')].some((q) => {
    if (q === '') return false;
    const candidates = candidatesFor(q);
    const best = candidates[0];
    if (
      best !== undefined &&
      best.confidence >= MIN_MAPPING_CONFIDENCE &&
      OTHER_PARTY_FIELDS.has(best.field)
    ) {
      return true;
    }
    // 渠道联系人, Partner contact: the partner's contact person, however weakly 渠道 scores inside it.
    return candidates.some((c) => c.field === 'channel');
  });
}

const DATE_WORDS_ZH = /日期|时间|时刻/;
const DATE_WORDS_EN = new Set(['date', 'time', 'day', 'datetime', 'when']);
const PHONE_WORDS_ZH = /电话|手机|联系方式|联络方式|号码|座机|固话/;
const PHONE_WORDS_EN = new Set(['phone', 'telephone', 'tel', 'mobile', 'cell', 'cellphone']);
const MONEY_WORDS_ZH = /金额|单价|均价|价格|总价|预算|万元/;
const MONEY_WORDS_EN = new Set(['amount', 'price', 'value', 'budget', 'revenue']);
const UNIT_PRICE_WORDS_ZH = /单价|均价|价格/;
const PERSON_HEAD_ZH = /(人|员|顾问|经理|代表|主管)$/;
const PERSON_HEAD_EN = new Set([
  'rep',
  'owner',
  'by',
  'person',
  'staff',
  'agent',
  'salesperson',
  'salesman',
  'consultant',
  'registrant',
  'manager',
]);

interface HeaderTraits {
  date: boolean;
  phone: boolean;
  money: boolean;
  unitPrice: boolean;
  personHead: boolean;
}

function traitsOf(header: PreparedHeader): HeaderTraits {
  const { hanText, latinWords } = header;
  const lastWord = latinWords[latinWords.length - 1];
  return {
    date: DATE_WORDS_ZH.test(hanText) || latinWords.some((w) => DATE_WORDS_EN.has(w)),
    phone: PHONE_WORDS_ZH.test(hanText) || latinWords.some((w) => PHONE_WORDS_EN.has(w)),
    money: MONEY_WORDS_ZH.test(hanText) || latinWords.some((w) => MONEY_WORDS_EN.has(w)),
    unitPrice: UNIT_PRICE_WORDS_ZH.test(hanText) || latinWords.includes('price'),
    personHead: PERSON_HEAD_ZH.test(hanText) || (lastWord !== undefined && PERSON_HEAD_EN.has(lastWord)),
  };
}

/**
 * Guards that no synonym list can break: a person is never read from a date or phone header (报备日期
 * is not the registrant, 联系电话 not the contact), a phone needs a phone word (联系人 is not a phone),
 * a date is never read from a person header (报备人), and amount / unit price / date stay apart.
 */
function allowedFor(field: Field, traits: HeaderTraits): boolean {
  switch (FIELD_SPECS[field].kind) {
    case 'personName':
    case 'companyName':
      return !traits.date && !traits.phone && !traits.money;
    case 'phone':
      return traits.phone && !traits.date && !traits.money;
    case 'day':
    case 'instant':
      return !traits.personHead && !traits.phone && !traits.money;
    case 'money':
      if (traits.date || traits.phone) return false;
      return field === 'expectedUnitPrice' ? traits.unitPrice : !traits.unitPrice;
    default:
      return true;
  }
}

function sortedCandidates(scores: Scores): FieldCandidate[] {
  return [...scores]
    .filter(([, confidence]) => confidence >= MIN_CANDIDATE_CONFIDENCE)
    .map(([field, confidence]) => ({ field, confidence: Math.round(confidence * 1000) / 1000 }))
    .sort((a, b) => b.confidence - a.confidence || FIELDS.indexOf(a.field) - FIELDS.indexOf(b.field));
}

const matchCache = new Map<string, readonly FieldCandidate[]>();

/**
 * The fields a header text may stand for, best first. Normalises (full→half width, traditional→
 * simplified, case, bracketed notes such as `(前三后四)`/`（必填）`, `*`, trailing `：`), then scores
 * exact synonyms, name-suffixed forms and containment; a mixed header (`Customer 客户名称`) takes the
 * best of its Chinese and English parts.
 */
export function matchHeaderText(text: string): FieldCandidate[] {
  return candidatesFor(text).map((c) => ({ ...c }));
}

/** matchHeaderText, memoised: a sheet repeats its texts, and detection reads each row several ways. */
function candidatesFor(text: string): readonly FieldCandidate[] {
  const cached = matchCache.get(text);
  if (cached !== undefined) return cached;
  const header = prepareHeader(text);
  const scores: Scores = new Map();
  for (const segment of header.segments) {
    for (const [field, confidence] of scoreUnits(segment.han, 'han')) raise(scores, field, confidence);
    for (const [field, confidence] of scoreUnits(segment.latin, 'latin')) raise(scores, field, confidence);
  }
  const traits = traitsOf(header);
  for (const field of [...scores.keys()]) {
    if (!allowedFor(field, traits)) scores.delete(field);
    else if (header.labelWithValue) scores.set(field, (scores.get(field) ?? 0) * 0.4);
  }
  // 报备人电话 or 推荐人电话 as a sheet's only phone column would otherwise be the customer's phone.
  const phone = scores.get('contactPhone');
  if (phone !== undefined && namesOtherPartyPhone(header)) {
    scores.set('contactPhone', phone * OTHER_PARTY_PHONE_FACTOR);
  }
  const candidates = sortedCandidates(scores);
  if (matchCache.size > 5000) matchCache.clear();
  // A copy of the text as the key: a sheet's text is often a slice of its part's whole XML, which
  // this module-wide cache would otherwise keep alive after the import (tens of MB).
  matchCache.set(` ${text}`.slice(1), candidates);
  return candidates;
}

/** A bare 渠道 / Channel header: partner channel or lead source, decided by the column's values. */
function isAmbiguousChannelHeader(text: string): boolean {
  const header = prepareHeader(text);
  const words = header.latinWords.join(' ');
  return (header.hanText === '渠道' && words === '') || (header.hanText === '' && words === 'channel');
}

// ---------------------------------------------------------------------------------------------------
// Cells and rows

/** Header-ish text of a cell: strings only; numbers, dates and booleans are data. */
function cellText(value: CellValue | undefined): string {
  // Kept as written (the add-in and the Sheets sync compare the header cell with it later); a cell
  // of invisible characters alone is empty, and matching reads the text without them (canonicalCase).
  if (typeof value !== 'string') return '';
  const text = value.trim();
  return withoutInvisibles(text) === '' ? '' : text;
}

function isNonTextValue(value: CellValue | undefined): boolean {
  return typeof value === 'number' || typeof value === 'boolean' || value instanceof Date;
}

/** Any non-empty cell, as text, for classifying rows. */
function displayText(value: CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  return withoutInvisibles(String(value)).trim();
}

const NOTE_START =
  /^(填表说明|填写说明|填报说明|说明|注意事项|注意|附注|备注|注|notes?|remarks?)\s*([:：、.．]|\d|[一二三四五六七八九十]|$)/i;
const SIGN_OFF = /^(制表|填表|审核|审批|复核)人?\s*[:：]/;
const TITLE_END = /(表|清单|台账|名单|汇总|明细)$/;
/** Both scripts spelled out, so that total rows are found without converting every cell. */
const TOTAL_START =
  /^(合计|合計|总计|總計|小计|小計|共计|共計|总合计|總合計|累计|累計|subtotal|grandtotal|total|sum)([(\d]|$)/;

interface ScannedRow {
  texts: string[];
  nonText: number;
  title: boolean;
  note: boolean;
}

function distinctNonEmpty(texts: readonly string[]): string[] {
  return [...new Set(texts.filter((t) => t !== ''))];
}

function isNoteText(text: string): boolean {
  const simplified = canonicalCase(text).trim();
  return NOTE_START.test(simplified) || SIGN_OFF.test(simplified);
}

function scanRow(cells: readonly CellValue[], width: number): ScannedRow {
  const texts = Array.from({ length: width }, (_, c) => cellText(cells[c]));
  const nonText = cells.filter(isNonTextValue).length;
  const distinct = distinctNonEmpty(texts);
  const filled = texts.filter((t) => t !== '').length;
  const firstFilled = texts.findIndex((t) => t !== '');
  const only = distinct[0] ?? '';
  // A merged title repeats its text across the merge (exceljs) or sits in the first cell alone; a
  // lone label elsewhere is a group (联系人 over 姓名 | 电话) unless it reads like a title (…登记表).
  const title =
    distinct.length === 1 &&
    nonText === 0 &&
    (filled >= 0.8 * width || (filled === 1 && firstFilled === 0) || TITLE_END.test(canonicalCase(only)));
  // 备注 alone is a header cell; 备注：… is a note.
  const note =
    distinct.length > 0 &&
    distinct.length <= 2 &&
    distinct.some(
      (t) =>
        t.length > MAX_HEADER_TEXT ||
        (isNoteText(t) && (candidatesFor(t)[0]?.confidence ?? 0) < MIN_MAPPING_CONFIDENCE),
    );
  return { texts, nonText, title, note };
}

// ---------------------------------------------------------------------------------------------------
// Assigning fields to columns

interface ColumnCandidates {
  /** 0-based. */
  index: number;
  header: string;
  group?: string;
  candidates: readonly FieldCandidate[];
}

interface Assignment {
  fieldByColumn: Map<number, FieldCandidate>;
  score: number;
}

/** Each field to at most one column: best confidence first, then a column's first choice, then leftmost. */
function assignFields(columns: readonly ColumnCandidates[]): Assignment {
  const options = columns.flatMap((column) =>
    column.candidates
      .filter((c) => c.confidence >= MIN_MAPPING_CONFIDENCE)
      .map((candidate, rank) => ({ column: column.index, candidate, rank })),
  );
  options.sort(
    (a, b) =>
      b.candidate.confidence - a.candidate.confidence ||
      a.rank - b.rank ||
      a.column - b.column ||
      FIELDS.indexOf(a.candidate.field) - FIELDS.indexOf(b.candidate.field),
  );
  const fieldByColumn = new Map<number, FieldCandidate>();
  const taken = new Set<Field>();
  let score = 0;
  for (const { column, candidate } of options) {
    if (fieldByColumn.has(column) || taken.has(candidate.field)) continue;
    fieldByColumn.set(column, candidate);
    taken.add(candidate.field);
    score += candidate.confidence;
  }
  return { fieldByColumn, score };
}

function singleRowColumns(row: ScannedRow): ColumnCandidates[] {
  return row.texts.flatMap((header, index) =>
    header === '' ? [] : [{ index, header, candidates: candidatesFor(header) }],
  );
}

/** `客户信息` over `名称` reads as `客户名称`: the group's generic tail would only get in the way. */
function groupStem(group: string): string {
  return group.replace(/\s*(信息|资料|情况|详情|資訊|資料|情況|詳情|information|info|details?)\s*$/i, '');
}

function mergeCandidates(...lists: (readonly FieldCandidate[])[]): FieldCandidate[] {
  const scores: Scores = new Map();
  for (const list of lists) for (const { field, confidence } of list) raise(scores, field, confidence);
  return sortedCandidates(scores);
}

/**
 * Columns of a header written over two rows. A merged upper cell either repeats over its columns
 * (exceljs) or sits in the first one; the latter is spread right over the columns that have a lower
 * cell. Each column takes the best of its lower text alone and upper + lower read together.
 */
function twoRowColumns(upper: ScannedRow, lower: ScannedRow): ColumnCandidates[] {
  const uppers = [...upper.texts];
  for (let c = 1; c < uppers.length; c++) {
    if (uppers[c] === '' && lower.texts[c] !== '' && uppers[c - 1] !== '' && lower.texts[c - 1] !== '') {
      uppers[c] = uppers[c - 1] ?? '';
    }
  }
  return lower.texts.flatMap((below, index): ColumnCandidates[] => {
    const above = uppers[index] ?? '';
    if (below === '' && above === '') return [];
    if (below === '' || above === '' || above === below) {
      const header = below === '' ? above : below;
      return [{ index, header, candidates: candidatesFor(header) }];
    }
    const combined = `${groupStem(above)} ${below}`;
    return [
      {
        index,
        header: below,
        group: above,
        candidates: mergeCandidates(candidatesFor(below), candidatesFor(combined)),
      },
    ];
  });
}

/** A merged group row (客户信息 | 报备信息) above a header row: short labels, each spanning columns. */
function isGroupRow(upper: ScannedRow, lower: ScannedRow): boolean {
  if (upper.note || upper.nonText > 0 || lower.nonText > 0) return false;
  const filled = upper.texts.filter((t) => t !== '');
  if (filled.length === 0 || filled.some((t) => t.length > 12)) return false;
  if (distinctNonEmpty(upper.texts).length >= distinctNonEmpty(lower.texts).length) return false;
  return upper.texts.some((text, c) => {
    if (text === '' || lower.texts[c] === '') return false;
    const next = upper.texts[c + 1];
    return next === text || (next === '' && (lower.texts[c + 1] ?? '') !== '');
  });
}

/**
 * A lower row that divides an upper label into columns: some label spans a blank upper cell with a
 * lower text under it (a merge, or a CSV's group written once), and at least as many labels have no
 * lower text (merged down over both rows) as have one. A data row fills the cells under most labels.
 */
function dividesColumns(upper: ScannedRow, lower: ScannedRow): boolean {
  const spans = upper.texts.some(
    (text, c) =>
      text !== '' && lower.texts[c] !== '' && upper.texts[c + 1] === '' && (lower.texts[c + 1] ?? '') !== '',
  );
  const labels = upper.texts.flatMap((text, c) => (text === '' ? [] : [lower.texts[c] === '']));
  const mergedDown = labels.filter((blank) => blank).length;
  return spans && mergedDown > 0 && mergedDown >= labels.length - mergedDown;
}

function rowScore(columns: readonly ColumnCandidates[], row: ScannedRow): number {
  const { score } = assignFields(columns);
  // Numbers and dates belong to data rows; long texts to notes and data.
  const longTexts = row.texts.filter((t) => t.length > MAX_HEADER_TEXT).length;
  return score - 0.5 * row.nonText - 0.5 * longTexts;
}

interface HeaderChoice {
  rows: number[];
  columns: ColumnCandidates[];
  score: number;
}

function chooseHeader(scanned: readonly ScannedRow[]): HeaderChoice | null {
  const usable = (row: ScannedRow | undefined): row is ScannedRow =>
    row !== undefined && !row.title && !row.note;
  const singles = scanned.map((row, r): HeaderChoice | null => {
    if (!usable(row)) return null;
    const columns = singleRowColumns(row);
    return { rows: [r], columns, score: rowScore(columns, row) };
  });
  let single: HeaderChoice | null = null;
  for (const candidate of singles) {
    if (candidate !== null && (single === null || candidate.score > single.score)) single = candidate;
  }
  if (single === null) return null;

  let choice = single;
  for (let r = 1; r < scanned.length; r++) {
    const upper = scanned[r - 1];
    const lower = scanned[r];
    if (!usable(upper) || !usable(lower) || upper.nonText > 0 || lower.nonText > 0) continue;
    const columns = twoRowColumns(upper, lower);
    const score = rowScore(columns, lower);
    const bestAlone = Math.max(singles[r - 1]?.score ?? 0, singles[r]?.score ?? 0);
    const beatsBoth = score >= bestAlone + TWO_ROW_MARGIN && score > choice.score;
    // A merged group row over the best row belongs to the header even when it adds no field.
    const groupOverBest =
      choice === single && r === single.rows[0] && isGroupRow(upper, lower) && score >= single.score;
    // The best row over a row that only divides some of its columns (预计金额（万元） over 首年 | 次年,
    // the other labels merged down): its lower texts are the columns' headers, not a data row.
    const dividedBest =
      choice === single &&
      r - 1 === single.rows[0] &&
      dividesColumns(upper, lower) &&
      assignFields(columns).fieldByColumn.size >= assignFields(single.columns).fieldByColumn.size;
    if (beatsBoth || groupOverBest || dividedBest) choice = { rows: [r - 1, r], columns, score };
  }
  const mapped = assignFields(choice.columns).fieldByColumn.size;
  return mapped >= 2 && choice.score >= 1.5 ? choice : null;
}

// ---------------------------------------------------------------------------------------------------
// 渠道: partner channel or lead source

function valueKind(value: string): 'source' | 'partner' | 'other' {
  const text = canonicalCase(value);
  const source = LEAD_SOURCE_WORDS.some((w) => text.includes(w));
  const partner = PARTNER_WORDS.some((w) => text.includes(w));
  if (source === partner) return 'other';
  return source ? 'source' : 'partner';
}

/**
 * domain.md reads 渠道 as the partner channel, but many sheets use it for the lead source (电话开发,
 * 官网咨询, 渠道推荐…). Mostly lead-source values → source; mostly partner names → channel. When the
 * values do not say, source is preferred, because R6 requires a source and a sheet naming partners
 * usually says so (渠道名称, 中介公司); if another column already holds source, this one becomes channel.
 */
function channelCandidates(values: readonly string[]): FieldCandidate[] {
  const kinds = values.map(valueKind);
  const count = Math.max(1, kinds.length);
  const sourceShare = kinds.filter((k) => k === 'source').length / count;
  const partnerShare = kinds.filter((k) => k === 'partner').length / count;
  if (sourceShare >= 0.5 && sourceShare > partnerShare) {
    return [
      { field: 'source', confidence: 0.6 + 0.35 * sourceShare },
      { field: 'channel', confidence: 0.5 },
    ];
  }
  if (partnerShare >= 0.5) {
    return [
      { field: 'channel', confidence: 0.6 + 0.4 * partnerShare },
      { field: 'source', confidence: 0.3 },
    ];
  }
  return [
    { field: 'source', confidence: 0.6 },
    { field: 'channel', confidence: 0.55 },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Detection

/** What classifying a row reads of its header, worked out once per header. */
interface RowReading {
  headerKeys: ReadonlyMap<number, string[]>;
  /** Absent while the header is being detected (no field is assigned yet). */
  example?: { columns: ExampleColumns; headerOf: (index: number) => string };
}

function rowKindFor(cells: readonly CellValue[], reading: RowReading): RowKind {
  const { headerKeys } = reading;
  // One pass over the cells (every row of a sheet comes through here): each cell's text, once.
  // The product's own 提示 on a skipped row (core/skippedRowHint.ts) is no content of the row: read
  // with it, a note row would hold two texts (data), and a row emptied since would not be blank.
  const texts = new Array<string>(cells.length);
  let filledCount = 0;
  let firstFilled = -1;
  /** Every filled text is the same one (the row holds one distinct text). */
  let oneText = true;
  /** No cell holds a value other than text (numbers, dates, booleans). */
  let allText = true;
  for (let c = 0; c < cells.length; c++) {
    const cell = cells[c];
    const display = displayText(cell);
    if (display !== '' && typeof cell !== 'string') allText = false;
    const text = display !== '' && isSkippedRowHint(display) ? '' : display;
    texts[c] = text;
    if (text === '') continue;
    if (firstFilled < 0) firstFilled = c;
    else if (oneText && text !== texts[firstFilled]) oneText = false;
    filledCount++;
  }
  if (filledCount === 0) return 'blank';
  // A paper-like form's unused lines carry / or 无 in every cell: nothing to register, nothing to
  // report. (The first real value ends the check: a customer name starts like no placeholder.)
  if (texts.every((t) => t === '' || isPlaceholder(t))) return 'blank';

  if (headerKeys.size > 0) {
    // Half the header's columns (at least two) must repeat it: the count stops once out of reach.
    const needed = Math.max(2, Math.ceil(0.5 * headerKeys.size));
    let repeated = 0;
    let left = headerKeys.size;
    for (const [index, keys] of headerKeys) {
      const text = texts[index] ?? '';
      if (text !== '' && keys.includes(rowTextKey(text))) repeated++;
      left--;
      if (repeated >= needed || repeated + left < needed) break;
    }
    if (repeated >= needed) return 'header-repeat';
  }

  // A total's label sits in the row's first filled cell or one of its first three.
  for (let c = 0; c < Math.min(3, texts.length); c++) {
    const text = texts[c]!;
    if (text !== '' && TOTAL_START.test(rowTextKey(text))) return 'total';
  }
  if (firstFilled >= 3 && TOTAL_START.test(rowTextKey(texts[firstFilled]!))) return 'total';

  if (oneText && allText) {
    const only = texts[firstFilled]!;
    if (isNoteText(only)) return 'note';
    // A lone sentence under the data is an explanation, not a record.
    if (only.length > MAX_HEADER_TEXT && /[。；;，,]/.test(only)) return 'note';
  }
  const { example } = reading;
  if (example !== undefined && exampleEvidence(texts, example.columns, example.headerOf) !== null) {
    return 'example';
  }
  return 'data';
}

/** The result columns' headers (core/schema RESULT_COLUMNS), as a repeated header's cells are compared. */
const RESULT_HEADER_KEYS = new Set(
  Object.values(RESULT_COLUMNS).flatMap((label) => [label.zh, label.en].map(rowTextKey)),
);

/**
 * The header texts a repeated header is recognised by, per column. The result columns the product
 * writes (报备编号, 状态 …) are left out: a page break or a pasted block repeats the data columns'
 * header, and counting the five result columns would put "half the header" out of its reach.
 */
function headerKeysOf(columns: readonly ColumnMapping[]): Map<number, string[]> {
  return new Map(
    columns
      .filter((c) => !RESULT_HEADER_KEYS.has(rowTextKey(c.header)))
      .map((c) => [c.column - 1, [c.header, c.group ?? ''].filter((t) => t !== '').map(rowTextKey)]),
  );
}

/**
 * Finds the header of a sheet given as a grid (`grid[0]` is sheet row 1, `grid[r][0]` column A) and
 * maps its columns. Returns null when no row within `maxScanRows` maps at least two fields.
 */
export function detectHeader(
  grid: readonly (readonly CellValue[])[],
  options: DetectHeaderOptions = {},
): HeaderDetection | null {
  const maxScanRows = Math.max(1, Math.floor(options.maxScanRows ?? 30));
  const scanEnd = Math.min(grid.length, maxScanRows);
  const width = Math.max(0, ...grid.slice(0, scanEnd).map((row) => row.length));
  if (width === 0) return null;
  const scanned = grid.slice(0, scanEnd).map((row) => scanRow(row, width));
  const choice = chooseHeader(scanned);
  if (choice === null) return null;

  const headerIndex = choice.rows[choice.rows.length - 1] ?? 0;
  const provisionalKeys = new Map(
    choice.columns.map((c) => [c.index, [c.header, c.group ?? ''].filter((t) => t !== '').map(rowTextKey)]),
  );
  const dataRows: (readonly CellValue[])[] = [];
  let dataStartIndex = -1;
  for (let r = headerIndex + 1; r < grid.length && dataRows.length < CHANNEL_SAMPLE_ROWS; r++) {
    const row = grid[r] ?? [];
    const kind = rowKindFor(row, { headerKeys: provisionalKeys });
    if (kind !== 'data') continue;
    if (dataStartIndex < 0) dataStartIndex = r;
    dataRows.push(row);
  }

  const columns = choice.columns.map((column) => {
    if (!isAmbiguousChannelHeader(column.header)) return column;
    const values = dataRows.map((row) => displayText(row[column.index])).filter((v) => v !== '');
    return { ...column, candidates: channelCandidates(values) };
  });

  const { fieldByColumn } = assignFields(columns);
  preferMobilePhone(columns, fieldByColumn);
  const mappings: ColumnMapping[] = columns.map((column) => {
    const assigned = fieldByColumn.get(column.index);
    const alternatives = column.candidates.filter((c) => c.field !== assigned?.field).map((c) => ({ ...c }));
    const mapping: ColumnMapping = {
      column: column.index + 1,
      header: column.header,
      field: assigned?.field ?? null,
      confidence: assigned?.confidence ?? 0,
    };
    if (column.group !== undefined) mapping.group = column.group;
    if (alternatives.length > 0) mapping.alternatives = alternatives;
    return mapping;
  });
  const mapped = mappings.filter((m) => m.field !== null);
  const meanConfidence = mapped.reduce((sum, m) => sum + m.confidence, 0) / Math.max(1, mapped.length);
  const confidence = 0.7 * meanConfidence + 0.3 * (mapped.length / Math.max(1, mappings.length));

  const detection: HeaderDetection = {
    headerRow: headerIndex + 1,
    headerRows: choice.rows.map((r) => r + 1),
    dataStartRow: (dataStartIndex >= 0 ? dataStartIndex : headerIndex + 1) + 1,
    columns: mappings,
    unmapped: mappings.filter((m) => m.field === null).map((m) => ({ column: m.column, header: m.header })),
    confidence: Math.round(confidence * 1000) / 1000,
  };
  // Example rows are told only once the fields are known: the data starts after a leading one.
  if (dataStartIndex >= 0) {
    let start = dataStartIndex;
    while (start < grid.length && classifyRow(grid[start] ?? [], detection) !== 'data') start++;
    detection.dataStartRow = (start < grid.length ? start : headerIndex + 1) + 1;
  }
  return detection;
}

/**
 * 电话 and 手机 on one sheet both read as the phone, and the leftmost would win. The record holds
 * one phone and R8's masked matching works on mobiles, so the mobile column takes it; the other
 * stays unmapped and is read as its fallback (core/phoneColumns.ts).
 */
function preferMobilePhone(
  columns: readonly ColumnCandidates[],
  fieldByColumn: Map<number, FieldCandidate>,
): void {
  const phoneAt = [...fieldByColumn].find(([, c]) => c.field === 'contactPhone')?.[0];
  const current = columns.find((c) => c.index === phoneAt);
  if (phoneAt === undefined || current === undefined || isMobileHeader(current.header)) return;
  const phoneConfidence = (c: ColumnCandidates) =>
    c.candidates.find((x) => x.field === 'contactPhone')?.confidence ?? 0;
  const mobile = columns.find(
    (c) =>
      !fieldByColumn.has(c.index) &&
      isMobileHeader(c.header) &&
      !isOtherPartyPhoneHeader(c.header) &&
      phoneConfidence(c) >= MIN_MAPPING_CONFIDENCE,
  );
  if (mobile === undefined) return;
  fieldByColumn.delete(phoneAt);
  fieldByColumn.set(mobile.index, { field: 'contactPhone', confidence: phoneConfidence(mobile) });
}

const readingCache = new WeakMap<HeaderDetection, RowReading>();

function readingOf(detection: HeaderDetection): RowReading {
  let reading = readingCache.get(detection);
  if (reading === undefined) {
    const headers = new Map(detection.columns.map((c) => [c.column - 1, c.header]));
    reading = {
      headerKeys: headerKeysOf(detection.columns),
      example: { columns: exampleColumnsOf(detection.columns), headerOf: (i) => headers.get(i) ?? '' },
    };
    readingCache.set(detection, reading);
  }
  return reading;
}

/**
 * What a row below the header is: blank; a total (合计/总计/小计/Total in its first cells, also `合 计`);
 * a note (one text starting 注/备注/说明/填表说明/Note, or a lone long sentence); the header repeated
 * (page breaks in printed sheets); a template's example row (core/exampleRow.ts); otherwise data.
 */
export function classifyRow(cells: readonly CellValue[], detection: HeaderDetection): RowKind {
  return rowKindFor(cells, readingOf(detection));
}

/** For a row classifyRow calls `example`: the column that shows it (to name in the reason). */
export function exampleEvidenceOf(
  cells: readonly CellValue[],
  detection: HeaderDetection,
): ExampleEvidence | null {
  const { example } = readingOf(detection);
  return example === undefined
    ? null
    : exampleEvidence(cells.map(displayText), example.columns, example.headerOf);
}

/**
 * Customer names (客户名称): the display form written back to sheets, and the matching key under
 * which spelling variants of one company (region as prefix or in brackets, 有限公司 or not,
 * traditional characters) coincide, plus a similarity for "possible" matches.
 */
import { toHalfWidth } from './halfWidth.js';
import { matchRegionChainAt, regionContains } from './regions.js';
import { toSimplified } from './simplified.js';

const HAN = '\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff';
const HAN_CHAR = new RegExp(`[${HAN}]`);
// Characters a space is dropped next to: Han characters, CJK punctuation and full-width brackets.
const CJK_ADJACENT = `${HAN}\\u3000-\\u303f\\uff08\\uff09`;
const SPACE_BEFORE_CJK = new RegExp(` (?=[${CJK_ADJACENT}])`, 'g');
const SPACE_AFTER_CJK = new RegExp(`(?<=[${CJK_ADJACENT}]) `, 'g');
/** Every character cleanCompanyName changes or acts on: spaces, full-width forms, zero-widths, brackets. */
const NEEDS_CLEANING = /[\s\uFF01-\uFF5E\u3000\u200b-\u200d\u2060\ufeff([【〔﹙)\]】〕﹚]/;

/**
 * The display form: trimmed, inner whitespace collapsed (and removed next to Chinese characters),
 * full-width ASCII folded to half-width, every kind of bracket unified to full-width （）.
 */
export function cleanCompanyName(raw: string): string {
  // Most names (and every name cleaned once already) contain nothing to change.
  if (!NEEDS_CLEANING.test(raw)) return raw;
  return toHalfWidth(raw)
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/[([【〔﹙]/g, '（')
    .replace(/[)\]】〕﹚]/g, '）')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(SPACE_BEFORE_CJK, '')
    .replace(SPACE_AFTER_CJK, '');
}

/**
 * Legal-form suffixes (组织形式), longest first so 股份有限公司 wins over 有限公司. They say how a
 * company is organised, not which company it is, so they are left out of the key.
 */
const LEGAL_FORMS = [
  '集团股份有限公司',
  '集团有限责任公司',
  '合伙企业（有限合伙）',
  '合伙企业（普通合伙）',
  '股份有限公司',
  '有限责任公司',
  '集团有限公司',
  '个人独资企业',
  '（有限合伙）',
  '（普通合伙）',
  '个体工商户',
  '股份公司',
  '有限公司',
  '集团公司',
  '合伙企业',
  '（集团）',
  '总公司',
  '工作室',
  '公司',
  '集团',
].sort((a, b) => b.length - a.length);

/** Suffixes after which a branch part may follow (上海华信科技有限公司|北京分公司). */
const PARENT_FORMS = LEGAL_FORMS.filter((form) => /公司|集团/.test(form));

/** A branch (分支机构) is a customer of its own, distinct from its parent company. */
const BRANCH_MARKERS = [
  '分公司',
  '分店',
  '分厂',
  '分部',
  '分行',
  '支行',
  '分院',
  '分所',
  '分校',
  '分中心',
  '办事处',
  '代表处',
  '营业部',
  '门市部',
].sort((a, b) => b.length - a.length);

/** Legal-form words of Latin-script names, dropped from the end (Co., Ltd. / Inc. / LLC). */
const LATIN_LEGAL_WORDS = new Set([
  'co',
  'company',
  'ltd',
  'limited',
  'inc',
  'incorporated',
  'llc',
  'llp',
  'lp',
  'corp',
  'corporation',
  'plc',
  'pte',
  'gmbh',
  'ag',
  'sa',
  'group',
]);

/** The parts of a matching key. */
export interface CompanyKeyParts {
  /** Region short name (上海, 深圳) or '' when the name names none. */
  region: string;
  /** The distinctive part (字号 and industry, 华信科技). */
  core: string;
  /** Branch part (北京分公司) or '' for the company itself. */
  branch: string;
}

/**
 * The matching key: `region|core`, or `region|core#branch` for a branch. Traditional characters are
 * simplified, the legal form is dropped, and the region — a leading prefix (上海市, 广东省深圳市) or a
 * bracketed region anywhere (华信科技（上海）有限公司) — is moved to the front, so
 * 华信科技（上海）有限公司, 上海市华信科技有限公司 and 上海华信科技 all give `上海|华信科技`, while
 * 北京华信科技有限公司 gives `北京|华信科技`. Personal names pass through (`|朱勇`).
 */
export function companyKey(raw: string): string {
  const { region, core, branch } = companyKeyParts(raw);
  return branch === '' ? `${region}|${core}` : `${region}|${core}#${branch}`;
}

/** The parts of the key of a name (see companyKey). */
export function companyKeyParts(raw: string): CompanyKeyParts {
  const spaced = toSimplified(cleanCompanyName(raw)).toLowerCase();
  if (!HAN_CHAR.test(spaced)) return { region: '', core: latinCore(spaced), branch: '' };

  // Marks and quotes staff put around a name (★, ※, “”, 《》) and spaces go before the region and
  // legal form are looked for: ★上海华信科技有限公司 starts with its region like the plain name.
  const { head, branch } = splitBranch(unwrapTrailingBranch(withoutMarks(spaced)));
  const bracketed = takeBracketedRegion(head);
  const withoutForm = stripLegalForms(bracketed.rest);
  let region = bracketed.region;
  let core = withoutForm;
  const leading = leadingRegion(withoutForm);
  // With a bracketed region too, a leading region is dropped only when one contains the other
  // (广东华信（深圳）); the narrower one is kept. A different one is part of the name: 北京华信（上海）
  // is a 上海 company called 北京华信.
  if (leading !== null) {
    if (region === '' || regionContains(region, leading.region)) {
      region = leading.region;
      core = leading.rest;
    } else if (regionContains(leading.region, region)) {
      core = leading.rest;
    }
  }
  return { region, core: keyChars(core), branch: keyChars(branch) };
}

/** Splits a key back into its parts. */
export function splitCompanyKey(key: string): CompanyKeyParts {
  const bar = key.indexOf('|');
  const region = bar < 0 ? '' : key.slice(0, bar);
  const rest = bar < 0 ? key : key.slice(bar + 1);
  const hash = rest.indexOf('#');
  return hash < 0
    ? { region, core: rest, branch: '' }
    : { region, core: rest.slice(0, hash), branch: rest.slice(hash + 1) };
}

/**
 * Character bigrams (one unigram for a one-character text) of a key's core with its branch, and of
 * region + core. Two keys with a similarity above 0 always share one, so an index from bigram to
 * records finds every candidate for a "possible" match without scanning all records.
 */
export function nameBigrams(key: string): string[] {
  const { region, core, branch } = splitCompanyKey(key);
  const own = core + branch;
  const out = new Set<string>();
  addGrams(own, out);
  if (region !== '') addGrams(region + own, out);
  return Array.from(out);
}

/** The grams of `text` (see grams) added to `out`, without the intermediate arrays. */
function addGrams(text: string, out: Set<string>): void {
  let previous: string | undefined;
  let chars = 0;
  for (const ch of text) {
    if (previous !== undefined) out.add(previous + ch);
    previous = ch;
    chars++;
  }
  // A one-character text is its own gram.
  if (chars === 1) out.add(previous as string);
}

/**
 * Similarity of two keys in 0..1: the Dice coefficient of the cores' bigrams; 0 when the regions
 * differ (one containing the other counts as agreeing: 广东 and 深圳). When one key has no region, its
 * core may still start with one the key did not take (a place missing from the region list, or a
 * region that would have left under two characters), so the region-prefixed core of the other is
 * compared too.
 */
export function companyNameSimilarity(aKey: string, bKey: string): number {
  if (aKey === bKey) return 1;
  const a = splitCompanyKey(aKey);
  const b = splitCompanyKey(bKey);
  const aOwn = a.core + a.branch;
  const bOwn = b.core + b.branch;
  if (a.region !== '' && b.region !== '') {
    const agree = regionContains(a.region, b.region) || regionContains(b.region, a.region);
    return agree ? diceCoefficient(grams(aOwn), grams(bOwn)) : 0;
  }
  return Math.max(
    diceCoefficient(grams(aOwn), grams(bOwn)),
    diceCoefficient(grams(a.region + aOwn), grams(b.region + bOwn)),
  );
}

/** Dice coefficient of two gram sets (duplicates ignored); usable on hashed grams too. */
export function diceCoefficient(a: readonly string[], b: readonly string[]): number {
  const aSet = new Set(a);
  const bSet = new Set(b);
  if (aSet.size === 0 || bSet.size === 0) return 0;
  let shared = 0;
  for (const gram of aSet) if (bSet.has(gram)) shared++;
  return (2 * shared) / (aSet.size + bSet.size);
}

function grams(text: string): string[] {
  const chars = [...text];
  if (chars.length <= 1) return chars;
  return chars.slice(1).map((ch, i) => `${chars[i] as string}${ch}`);
}

/** Only letters, digits and Han characters count; brackets and punctuation are spelling. */
function keyChars(text: string): string {
  return NOT_KEY_CHAR.test(text) ? text.replace(NOT_KEY_CHARS, '') : text;
}
const NOT_KEY_CHAR = /[^\p{L}\p{N}]/u;
const NOT_KEY_CHARS = /[^\p{L}\p{N}]/gu;

/**
 * The name with only letters, digits, Han characters and the brackets （） left: brackets carry a
 * region or a branch (华信科技（上海）有限公司), every other mark is decoration or spelling.
 */
function withoutMarks(name: string): string {
  let bare = NOT_NAME_CHAR.test(name) ? name.replace(NOT_NAME_CHARS, '') : name;
  // Brackets that held only marks (【★】 for a key account) are a mark too: left empty, they would
  // hide a leading region or a trailing legal form.
  while (bare.includes('（）')) bare = bare.replaceAll('（）', '');
  return bare;
}
const NOT_NAME_CHAR = /[^\p{L}\p{N}（）]/u;
const NOT_NAME_CHARS = /[^\p{L}\p{N}（）]/gu;

function latinCore(name: string): string {
  const tokens = name.split(/[^\p{L}\p{N}&]+/u).filter((t) => t !== '');
  while (tokens.length > 1 && LATIN_LEGAL_WORDS.has(tokens[tokens.length - 1] as string)) tokens.pop();
  return tokens.join('').replace(/&/g, '');
}

/** 华信科技有限公司（北京分公司） → 华信科技有限公司北京分公司. */
function unwrapTrailingBranch(name: string): string {
  if (!name.endsWith('）')) return name;
  const bracket = /（([^（）]+)）$/.exec(name);
  if (bracket === null) return name;
  const content = bracket[1] as string;
  return BRANCH_MARKERS.some((m) => content.endsWith(m)) ? name.slice(0, bracket.index) + content : name;
}

/** Splits 上海华信科技有限公司北京分公司 into the company and its branch. */
function splitBranch(name: string): { head: string; branch: string } {
  const marker = BRANCH_MARKERS.find((m) => name.endsWith(m) && name.length > m.length);
  if (marker === undefined) return { head: name, branch: '' };
  const markerStart = name.length - marker.length;
  // The parent ends at the last legal form before the marker (not the 公司 inside 分公司).
  let parentEnd = -1;
  for (const form of PARENT_FORMS) {
    const at = name.lastIndexOf(form, markerStart - form.length);
    if (at > 0 && at + form.length > parentEnd) parentEnd = at + form.length;
  }
  if (parentEnd < 0) {
    // No legal form: a region just before the marker belongs to the branch (华信科技北京分公司).
    parentEnd = markerStart;
    for (let start = Math.max(1, markerStart - 12); start < markerStart; start++) {
      const match = matchRegionChainAt(name, start);
      if (match !== null && match.end === markerStart && start >= 2) {
        parentEnd = start;
        break;
      }
    }
  }
  const branchText = name.slice(parentEnd);
  const branchRegion = matchRegionChainAt(branchText, 0);
  const branch =
    branchRegion !== null && branchRegion.end < branchText.length
      ? branchRegion.region + branchText.slice(branchRegion.end)
      : branchText;
  return { head: name.slice(0, parentEnd), branch };
}

/** Takes a bracketed region (华信科技（上海）有限公司 → 上海, 华信科技有限公司). */
function takeBracketedRegion(name: string): { region: string; rest: string } {
  if (!name.includes('（')) return { region: '', rest: name };
  for (const bracket of name.matchAll(/（([^（）]+)）/g)) {
    const content = bracket[1] as string;
    const match = matchRegionChainAt(content, 0);
    if (match === null || match.end !== content.length) continue;
    const at = bracket.index;
    const rest = name.slice(0, at) + name.slice(at + bracket[0].length);
    if (stripLegalForms(rest).length >= 2) return { region: match.region, rest };
  }
  return { region: '', rest: name };
}

function stripLegalForms(name: string): string {
  let rest = name;
  for (;;) {
    const form = LEGAL_FORMS.find((f) => rest.endsWith(f) && rest.length > f.length);
    if (form === undefined) return rest;
    rest = rest.slice(0, rest.length - form.length);
  }
}

/** A leading region, kept only when at least two characters of name remain after it. */
function leadingRegion(name: string): { region: string; rest: string } | null {
  const match = matchRegionChainAt(name, 0);
  if (match === null) return null;
  const rest = name.slice(match.end);
  return keyChars(rest).length >= 2 ? { region: match.region, rest } : null;
}

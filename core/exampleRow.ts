/**
 * 填写示例: the example row a template carries under its header (上海某某科技有限公司 or 上海某公司 /
 * 张三 / 13800000000, or a row marked 示例 in 序号 or 备注). Registered, it would claim a customer nobody
 * courts. Only clear signals count, since a real customer skipped is worse than an example reported.
 */
import type { Field } from './schema.js';

/** What the example check needs of a header column: where it is, its text and the field it holds. */
export interface ExampleColumn {
  /** 1-based. */
  column: number;
  header: string;
  field: Field | null;
}

/** The columns an example shows itself in, 0-based, read once per header. */
export interface ExampleColumns {
  customerName: number | undefined;
  contactName: number | undefined;
  contactPhone: number | undefined;
  /** 序号 and 备注 columns: where templates write 示例 / 例 / 样例 beside the example. */
  markers: number[];
}

/** Which column gave the row away (1-based), and its header. */
export interface ExampleEvidence {
  column: number;
  header: string;
}

/** An unmapped 序号 / No. column (a row number, or 示例 on the template's example row). */
const INDEX_HEADER = /^(序号|序號|编号|編號|行号|行號|no\.?|#)$/i;
const OPEN = '[(（\\[【〔<《]?';
const CLOSE = '[)）\\]】〕>》]?';
/** The marker words; 例 alone only as the whole cell or before a colon (例如… is a sentence). */
const MARKER_WORDS = '示例|样例|樣例|范例|範例|举例|舉例|填写示例|填寫示例|填表示例|示范|示範|例子|例';
/** A 序号 / 备注 cell that is a marker: 示例, 例1, 【示例】, 示例，请删除此行, Example. */
const MARKER_CELL = new RegExp(
  `^(${OPEN}(${MARKER_WORDS})${CLOSE}\\d*(行)?([:：,，、。.;；!！\\s].*)?|(example|sample|e\\.g\\.?)[:：]?)$`,
  'i',
);
/** 此行为填写示例（请删除） written in 备注. */
const ROW_IS_EXAMPLE = /^(此行|本行|该行|該行)(为|為|是)?(填写|填寫|填表)?(示例|样例|樣例|范例|範例)/;
/** A 客户名称 that says it is an example: 示例：…, 例: …, 【样例】…, or the marker alone. */
const MARKED_NAME = new RegExp(
  `^(${OPEN}(${MARKER_WORDS})${CLOSE}\\s*[:：]|[(（\\[【〔<《](${MARKER_WORDS})[)）\\]】〕>》]|(${MARKER_WORDS})$)`,
  'i',
);
/**
 * Every row's cells come through here: a cell that cannot start a marker, or a name without 某 or X,
 * is passed over before the NFKC folding (a fifth of classifying a row, measured at 100,000 rows).
 */
const MARKER_START = /^\s*[(（[［【〔<＜《示样樣范範举舉例填此本该該esESｅｓＥＳ]/;
const PLACEHOLDER_CHARS = /[某×✕xXｘＸ]/;
/**
 * What a template's made-up 客户名称 reads like: 某某, ×× or a run of X standing alone (XX公司), not
 * inside a Latin word (XXL, MAXXIS); or one 某 right before the company word, with at most an
 * industry word between (上海某公司, 北京某有限公司, 某科技有限公司). One 某 followed by anything else
 * is a character of a real name (上海某丰贸易有限公司), never a placeholder.
 */
const PLACEHOLDER_NAME = new RegExp(
  '某某|[×✕]{2,}|(?<![a-z0-9])x{2,}(?![a-z0-9])|' +
    '某(科技|贸易|商贸|实业|网络|信息|电子|机械|建设|建筑|工程|文化|传媒|咨询|物流|设备|医药|食品|制造|投资|发展)?' +
    '(有限责任|股份有限|有限)?(公司|集团|企业|单位|工厂)',
  'i',
);
/** 张三, 李四, 王某某, 某先生, X经理, XXX: the names forms use for a made-up person. */
const PLACEHOLDER_CONTACT =
  /^(张三|張三|李四|王五|赵六|趙六|小明|\p{Script=Han}?某某?|\p{Script=Han}?(x{1,3}|[×✕]{1,3}))(先生|女士|小姐|经理|經理|总|總)?$/iu;
/**
 * 138xxxxxxxx, 1**********, 13800000000, 12345678901, and 13800138000 (the number forms and software
 * docs print as a sample): no number anyone holds (a masked 138****5678 is one).
 */
const PLACEHOLDER_PHONE = /^(\+?86)?(1\d{0,2}[x×✕*]{8,10}|1\d{2}0{8}|13800138000|12345678901|0{7,12})$/i;

/** The columns of a header an example row is read from. */
export function exampleColumnsOf(columns: readonly ExampleColumn[]): ExampleColumns {
  const at = (field: Field) => columns.find((c) => c.field === field)?.column;
  const zeroBased = (column: number | undefined) => (column === undefined ? undefined : column - 1);
  return {
    customerName: zeroBased(at('customerName')),
    contactName: zeroBased(at('contactName')),
    contactPhone: zeroBased(at('contactPhone')),
    markers: columns
      .filter((c) => c.field === 'notes' || (c.field === null && INDEX_HEADER.test(compact(c.header))))
      .map((c) => c.column - 1),
  };
}

/**
 * The column showing that a row is the template's example, or null for a row to register. A row is
 * an example when a 序号 or 备注 cell is a marker (示例, 例, 样例…), when its 客户名称 says so (示例：…),
 * or when its 客户名称 is a placeholder (某某, XX, ××) and so is its contact or phone (张三, 13800000000).
 * `texts` are the row's cells as text, 0-based.
 */
export function exampleEvidence(
  texts: readonly string[],
  columns: ExampleColumns,
  headerOf: (index: number) => string,
): ExampleEvidence | null {
  const evidence = (index: number): ExampleEvidence => ({ column: index + 1, header: headerOf(index) });
  for (const index of columns.markers) {
    const raw = texts[index] ?? '';
    if (!MARKER_START.test(raw)) continue;
    const text = compactCell(raw);
    if (MARKER_CELL.test(text) || ROW_IS_EXAMPLE.test(text)) return evidence(index);
  }
  if (columns.customerName === undefined) return null;
  const rawName = texts[columns.customerName] ?? '';
  const markedStart = MARKER_START.test(rawName);
  if (!markedStart && !PLACEHOLDER_CHARS.test(rawName)) return null;
  const name = compactCell(rawName);
  if (name === '') return null;
  if (markedStart && MARKED_NAME.test(name)) return evidence(columns.customerName);
  if (!PLACEHOLDER_NAME.test(name)) return null;
  const contact = columns.contactName !== undefined ? compact(texts[columns.contactName] ?? '') : '';
  const phone =
    columns.contactPhone !== undefined
      ? compact(texts[columns.contactPhone] ?? '').replace(/[-()（）]/g, '')
      : '';
  const placeholderContact = contact !== '' && PLACEHOLDER_CONTACT.test(contact);
  const placeholderPhone = phone !== '' && PLACEHOLDER_PHONE.test(phone);
  return placeholderContact || placeholderPhone ? evidence(columns.customerName) : null;
}

/** Full-width folded (ｘｘ, ：), spaces removed: templates type their examples every which way. */
function compact(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, '');
}

/** As `compact`, but the spaces inside a marker cell's sentence are kept (示例，请 删除). */
function compactCell(text: string | undefined): string {
  return (text ?? '').normalize('NFKC').trim();
}

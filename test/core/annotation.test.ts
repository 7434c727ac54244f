/**
 * core/annotation.ts: the palette (a fill per status, each group apart from the others), the
 * legend that explains it, which texts go to 冲突说明 and which to 提示, and how a clash reads.
 */
import { describe, expect, it } from 'vitest';
import {
  annotateRow,
  describeConflict,
  FILLS,
  INVALID_CELL_FILL,
  INVALID_CELL_LEGEND,
  LEGEND,
  rowFill,
  type AnnotationInput,
  type FillName,
} from '../../core/annotation.js';
import { problem } from '../../core/problem.js';
import { MAX_CELL_CHARS } from '../../core/cellText.js';
import { RESULT_COLUMNS, ROW_STATUSES, type RowStatus } from '../../core/schema.js';

const base: AnnotationInput = { status: 'pending', errors: [], warnings: [], conflicts: [] };

describe('the palette', () => {
  it('gives every status the fill of its group, and the groups are apart', () => {
    const fills = Object.fromEntries(ROW_STATUSES.map((s) => [s, rowFill(s)])) as Record<RowStatus, FillName>;
    expect(fills).toEqual({
      pending: 'paleBlue',
      conflict: 'red',
      protected: 'green',
      'extension-requested': 'green',
      signed: 'green',
      expired: 'grey',
      terminated: 'grey',
      rejected: 'grey',
      void: 'grey',
      duplicate: 'grey',
      invalid: 'violet',
    });
    // Invalid is neither a conflict nor a closed row; what waits asks for nothing (very light).
    expect(new Set([fills.invalid, fills.expired, fills.conflict, fills.pending, fills.protected]).size).toBe(
      5,
    );
    const colours = Object.values(FILLS).map((f) => f.fill);
    expect(new Set(colours).size).toBe(colours.length);
    const lightness = (hex: string) =>
      [0, 2, 4].reduce((sum, i) => sum + parseInt(hex.slice(i, i + 2), 16), 0) / (3 * 255);
    expect(lightness(FILLS.paleBlue.fill)).toBeGreaterThan(0.95);
  });

  it('[R4] turns a pending or protected row amber when it needs a look, never a conflict or a closed one', () => {
    for (const status of ['pending', 'protected', 'extension-requested', 'signed'] as const) {
      expect(rowFill(status, true), status).toBe('amber');
    }
    for (const status of ['conflict', 'invalid', 'expired', 'rejected', 'duplicate'] as const) {
      expect(rowFill(status, true), status).toBe(rowFill(status));
    }
  });

  it('has a legend line for every fill a row can get, covering every status once per look', () => {
    const legendFills = LEGEND.map((e) => e.fill);
    const possible = new Set(ROW_STATUSES.flatMap((s) => [rowFill(s), rowFill(s, true)]));
    expect(new Set(legendFills)).toEqual(possible);
    expect(legendFills).toHaveLength(possible.size);
    for (const entry of LEGEND) {
      for (const status of entry.statuses) {
        expect([rowFill(status), rowFill(status, true)], `${entry.fill} ${status}`).toContain(entry.fill);
      }
      expect(entry.zh && entry.en && entry.meaningZh && entry.meaningEn).toBeTruthy();
    }
    const covered = new Set(LEGEND.flatMap((e) => e.statuses));
    expect(covered).toEqual(new Set(ROW_STATUSES));
    expect(INVALID_CELL_LEGEND.fill).toBe(INVALID_CELL_FILL);
  });
});

describe('result cells', () => {
  it('writes one cell per result column, 提示 among them', () => {
    expect(Object.keys(annotateRow(base).cells)).toEqual(Object.keys(RESULT_COLUMNS));
    expect(RESULT_COLUMNS.hint).toEqual({ zh: '提示', en: 'Hints' });
  });

  it('[R5] keeps 冲突说明 empty for a row with only advice, which goes to 提示', () => {
    const a = annotateRow({
      ...base,
      registrationNo: 'BB-2026-000004',
      warnings: [
        problem('customer.identification', '企业客户建议填写统一社会信用代码或地址', 'Add…', 'creditCode'),
        problem('registeredAt.ignored', '报备时间以系统收到的时间为准', 'Receipt time', 'registeredAt'),
      ],
    });
    expect(a.cells.conflict).toBe('');
    expect(a.cells.hint).toBe('企业客户建议填写统一社会信用代码或地址；报备时间以系统收到的时间为准');
    expect(a.fill).toBe('paleBlue');
    expect(a.notes).toEqual({});
  });

  it('[R2] puts errors in 冲突说明 with their field, notes on the cells, and never repeats the label', () => {
    const a = annotateRow({
      ...base,
      status: 'invalid',
      errors: [
        problem('field.required', '客户名称不能为空', 'Customer is required', 'customerName'),
        problem('phone.invalid', '电话号码格式不正确', 'Bad phone', 'contactPhone'),
      ],
      warnings: [
        problem('customer.identification', '企业客户建议填写统一社会信用代码', 'Add…', 'creditCode'),
      ],
    });
    expect(a.cells.conflict).toBe('客户名称不能为空；联系电话：电话号码格式不正确');
    expect(a.cells.hint).toBe('企业客户建议填写统一社会信用代码');
    expect(a.notes).toEqual({ customerName: '客户名称不能为空', contactPhone: '电话号码格式不正确' });
    expect(a.fill).toBe('violet');
  });

  it('[R15] lists clashes in 冲突说明 (possible ones too) and drops the generic clash warning they explain', () => {
    const a = annotateRow({
      ...base,
      status: 'conflict',
      warnings: [problem('registration.conflict', '该客户已有他人报备待审核（撞单）', 'Clash')],
      conflicts: [
        { row: 3, registrationNo: 'BB-2026-000001', matchedOn: 'creditCode', strength: 'exact' },
        {
          registrationNo: 'BB-2026-000004',
          holder: { name: '王磊', team: '华东一部' },
          status: 'protected',
          protectedUntil: '2027-01-05',
          matchedOn: 'phone',
          strength: 'possible',
        },
      ],
    });
    expect(a.cells.conflict).toBe(
      '与第 3 行（BB-2026-000001）为同一客户：信用代码相同；' +
        '可能与 BB-2026-000004（王磊，华东一部，保护中，保护至 2027-01-05）为同一客户：电话相同',
    );
    expect(a.cells.hint).toBe('');
    expect(a.fill).toBe('red');
    // Without listed clashes (a refresh), the clash warning itself goes to 冲突说明.
    const alone = annotateRow({
      ...base,
      status: 'conflict',
      warnings: [problem('conflict.queued', '排在 BB-2026-000001 之后', 'Queued')],
    });
    expect(alone.cells.conflict).toBe('排在 BB-2026-000001 之后');
  });

  it('[R4] marks a late registration amber and explains it in 提示', () => {
    const a = annotateRow({
      ...base,
      warnings: [
        problem('registration.late', '超过首次接触后 3 个工作日才报备（R4）', 'Late (R4)', 'registeredAt'),
      ],
    });
    expect(a.fill).toBe('amber');
    expect(a.cells).toMatchObject({ conflict: '', hint: '超过首次接触后 3 个工作日才报备（R4）' });
  });

  it('[R29][R21] marks a registration not auto-approved for an ended window amber and says why in 提示', () => {
    const why = '保护期自 2026-09-20 起算，已于 2026-10-19 结束，未自动批准，已转审核人处理（R29、R21）';
    const a = annotateRow({
      ...base,
      warnings: [
        problem('registration.protection_over', why, 'Protection ended on 2026-10-19', 'firstVisitAt'),
      ],
    });
    expect(a.fill).toBe('amber');
    expect(a.cells).toMatchObject({ status: '待审核', conflict: '', hint: why });
  });

  it("shows a duplicate's match with the registrant's own registration in 提示, not as a clash", () => {
    const a = annotateRow({
      ...base,
      status: 'duplicate',
      registrationNo: 'BB-2026-000004',
      warnings: [problem('registration.duplicate', '您已报备过该客户，本行未重复保存', 'Duplicate')],
      conflicts: [{ row: 5, matchedOn: 'name', strength: 'exact' }],
    });
    expect(a.cells.conflict).toBe('');
    expect(a.cells.hint).toBe('您已报备过该客户，本行未重复保存；与第 5 行为同一客户：客户名称相同');
    expect(a.fill).toBe('grey');
  });

  it('sets Latin text and numbers off from the Chinese around them', () => {
    expect(describeConflict({ registrationNo: 'BB-2026-000004', matchedOn: 'name', strength: 'exact' })).toBe(
      '与 BB-2026-000004 为同一客户：客户名称相同',
    );
    expect(describeConflict({ row: 12, matchedOn: 'email', strength: 'possible' })).toBe(
      '可能与第 12 行为同一客户：邮箱相同',
    );
    expect(describeConflict({ matchedOn: 'household', strength: 'exact' })).toBe(
      '与另一报备为同一客户：同一家庭',
    );
    // No Chinese character touches a Latin letter or digit anywhere in these texts.
    for (const text of [
      describeConflict({
        registrationNo: 'BB-2026-000004',
        status: 'pending',
        matchedOn: 'phone',
        strength: 'exact',
      }),
      describeConflict({
        row: 7,
        registrationNo: 'BB-2026-000009',
        matchedOn: 'maskedPhone',
        strength: 'possible',
      }),
    ]) {
      expect(text).not.toMatch(/[\u4e00-\u9fff][A-Za-z0-9]|[A-Za-z0-9][\u4e00-\u9fff]/);
    }
  });
});

describe('result cells that would not fit a cell', () => {
  /** Errors without a field read as their message alone: `count` clashes of `length` characters. */
  function clashes(count: number, length: number, last: number): AnnotationInput {
    const errors = Array.from({ length: count }, (_, i) =>
      problem('x', (i === count - 1 ? '末' : '冲').repeat(i === count - 1 ? last : length), 'x'),
    );
    return { ...base, status: 'invalid', errors };
  }

  it('keeps a 冲突说明 of exactly 32,767 characters (Excel’s cell limit) whole', () => {
    // 327 clashes of 99 characters and their 326 separators are 32,699; a last one of 67 makes 32,767.
    const text = annotateRow(clashes(328, 99, 67)).cells.conflict;
    expect(text).toHaveLength(MAX_CELL_CHARS);
    expect(text.endsWith('末'.repeat(67))).toBe(true);
  });

  it('ends a 冲突说明 one character longer with how many clashes are left out, within the limit', () => {
    const text = annotateRow(clashes(328, 99, 68)).cells.conflict;
    expect(text.length).toBeLessThanOrEqual(MAX_CELL_CHARS);
    expect(text.endsWith('冲…另有 1 条未列出（共 328 条）')).toBe(true);
    expect(text).not.toContain('末');
  });

  it('[R3] fits 1,600 registrations sharing one phone into 冲突说明, and into 提示 on a duplicate', () => {
    const conflicts = Array.from({ length: 1_600 }, (_, i) => ({
      registrationNo: `BB-2026-${String(i + 1).padStart(6, '0')}`,
      status: 'protected' as const,
      holder: { name: '王磊', team: '华东一部' },
      protectedUntil: '2027-01-05',
      matchedOn: 'phone' as const,
      strength: 'exact' as const,
    }));
    const conflict = annotateRow({ ...base, status: 'conflict', conflicts }).cells.conflict;
    expect(conflict.length).toBeLessThanOrEqual(MAX_CELL_CHARS);
    const shown = conflict.split('；').length;
    expect(conflict).toMatch(new RegExp(`…另有 ${1_600 - shown} 条未列出（共 1600 条）$`));
    expect(conflict.startsWith(describeConflict(conflicts[0]!))).toBe(true);
    const hint = annotateRow({ ...base, status: 'duplicate', conflicts }).cells.hint;
    expect(hint.length).toBeLessThanOrEqual(MAX_CELL_CHARS);
    expect(hint).toMatch(/…另有 \d+ 条未列出（共 1600 条）$/);
  });
});

describe('a single item longer than a cell', () => {
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

  it.each(['', '甲'])(
    'cuts between characters, never inside a surrogate pair (𠀀, a name character beyond the BMP), prefix %j',
    (prefix) => {
      const message = prefix + '𠀀'.repeat(20_000);
      const text = annotateRow({
        ...base,
        status: 'invalid',
        errors: [problem('x', message, 'x')],
      }).cells.conflict;
      expect(text.length).toBeLessThanOrEqual(MAX_CELL_CHARS);
      expect(text).not.toMatch(LONE_SURROGATE);
      expect(text).toMatch(/𠀀…另有 1 条未列出（共 1 条）$/);
    },
  );
});

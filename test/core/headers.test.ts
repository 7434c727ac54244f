/**
 * Header detection and row classification on synthetic sheets: traditional, English and mixed
 * headers, titles, notes, merged group rows, two-row headers, guards, and 渠道 read from its values.
 */
import fc from 'fast-check';
import * as OpenCC from 'opencc-js';
import { describe, expect, it } from 'vitest';
import { classifyRow, detectHeader, matchHeaderText, type HeaderDetection } from '../../core/headers.js';
import { phoneFallbackColumn } from '../../core/phoneColumns.js';
import type { CellValue, Field } from '../../core/schema.js';

type Row = CellValue[];

function detect(grid: readonly Row[], options?: { maxScanRows?: number }): HeaderDetection {
  const detection = detectHeader(grid, options);
  if (detection === null) throw new Error('no header detected');
  return detection;
}

/** header text → field, for the mapped columns. */
function mappingOf(detection: HeaderDetection): Record<string, Field> {
  return Object.fromEntries(
    detection.columns.flatMap((c) => (c.field === null ? [] : [[c.header, c.field] as const])),
  );
}

function bestField(header: string): Field | undefined {
  return matchHeaderText(header)[0]?.field;
}

function fieldsOf(header: string): Field[] {
  return matchHeaderText(header).map((c) => c.field);
}

const V1_HEADERS: Record<string, Field> = {
  客户名称: 'customerName',
  客户类型: 'customerType',
  统一社会信用代码: 'creditCode',
  联系人: 'contactName',
  职务: 'contactTitle',
  联系电话: 'contactPhone',
  所在地区: 'region',
  客户来源: 'source',
  客户需求: 'need',
  预计签约金额: 'expectedAmount',
  预计签约时间: 'expectedSignDate',
  报备人: 'registrant',
  部门: 'team',
  报备日期: 'registeredAt',
};

/** Plausible data for a field, so data rows look like data (numbers, dates, names). */
function sampleValue(field: Field | undefined, i: number): CellValue {
  switch (field) {
    case 'customerName':
      return ['杭州明远科技有限公司', '王小明', '苏州华信电子有限公司'][i % 3] ?? null;
    case 'customerType':
      return i % 2 === 0 ? '企业' : '个人';
    case 'creditCode':
      return '91330106MA2B3C4D5E';
    case 'contactName':
    case 'registrant':
      return ['张伟', '李娜', '刘洋'][i % 3] ?? null;
    case 'contactPhone':
      return `1381234567${i % 10}`;
    case 'expectedAmount':
      return 500000 + i * 10000;
    case 'expectedSignDate':
    case 'registeredAt':
      return new Date(Date.UTC(2026, 4, 1 + i));
    case 'source':
      return ['官网咨询', '电话开发', '老客户介绍'][i % 3] ?? null;
    default:
      return `值${i}`;
  }
}

function dataRows(fields: readonly (Field | undefined)[], count: number): Row[] {
  return Array.from({ length: count }, (_, i) => fields.map((f) => sampleValue(f, i)));
}

describe('matchHeaderText', () => {
  it('maps exact synonyms with full confidence', () => {
    for (const [header, field] of Object.entries(V1_HEADERS)) {
      expect([header, matchHeaderText(header)[0]]).toEqual([header, { field, confidence: 1 }]);
    }
  });

  it('reads traditional-Chinese headers, including Taiwan usage (聯絡電話)', () => {
    expect(bestField('客戶名稱')).toBe('customerName');
    expect(bestField('聯繫電話')).toBe('contactPhone');
    expect(bestField('聯絡電話')).toBe('contactPhone');
    expect(bestField('報備人')).toBe('registrant');
    expect(bestField('業務員')).toBe('registrant');
    expect(bestField('統一社會信用代碼')).toBe('creditCode');
    expect(bestField('預計簽約單價')).toBe('expectedUnitPrice');
    expect(bestField('備註')).toBe('notes');
    // Mixed scripts in one header happen with some input methods.
    expect(bestField('客戶名称')).toBe('customerName');
  });

  it('strips bracketed notes, markers, colons and full-width forms', () => {
    expect(matchHeaderText('电话(前三后四)')[0]).toEqual({ field: 'contactPhone', confidence: 1 });
    expect(matchHeaderText('*客户名称（必填）：')[0]).toEqual({ field: 'customerName', confidence: 1 });
    expect(matchHeaderText('预计签约金额【万元】')[0]).toEqual({ field: 'expectedAmount', confidence: 1 });
    expect(matchHeaderText('ＰＨＯＮＥ')[0]).toEqual({ field: 'contactPhone', confidence: 1 });
  });

  it('reads English headers, case- and plural-insensitively', () => {
    expect(bestField('Company Name')).toBe('customerName');
    expect(bestField('E-mail')).toBe('email');
    expect(bestField('Registered on')).toBe('registeredAt');
    expect(bestField('Registered by')).toBe('registrant');
    expect(bestField('REMARKS')).toBe('notes');
    expect(bestField('Requirements')).toBe('need');
    expect(bestField('Phone No.')).toBe('contactPhone');
  });

  it('takes the best of the Chinese and English parts of a mixed header', () => {
    expect(matchHeaderText('Customer 客户名称')[0]).toEqual({ field: 'customerName', confidence: 1 });
    expect(matchHeaderText('Phone 电话')[0]).toEqual({ field: 'contactPhone', confidence: 1 });
    expect(bestField('Sales rep 报备人')).toBe('registrant');
    // The English part decides when the Chinese part is generic.
    expect(bestField('Type 类型')).toBe('customerType');
  });

  it('scores a header holding a synonym plus extra text below an exact match; the head word decides', () => {
    const contained = matchHeaderText('客户联系电话号')[0];
    expect(contained?.field).toBe('contactPhone');
    expect(contained?.confidence).toBeLessThan(1);
    expect(contained?.confidence).toBeGreaterThanOrEqual(0.5);
    expect(bestField('客户地址')).toBe('address');
    expect(bestField('销售区域')).toBe('region');
    // A synonym inside an exact synonym does not count: 来源渠道 is a source and nothing else.
    expect(matchHeaderText('来源渠道')).toEqual([{ field: 'source', confidence: 1 }]);
    expect(bestField('联系人姓名')).toBe('contactName');
    expect(bestField('业务员姓名')).toBe('registrant');
    // 客户 is only a modifier here; nothing should claim the column confidently.
    expect(matchHeaderText('客户编号').filter((c) => c.confidence >= 0.5)).toEqual([]);
  });

  it('reads the head (last) word of a compound: 报备人部门 is a team, 联系电话备注 a note', () => {
    expect(bestField('报备人部门')).toBe('team');
    expect(bestField('联系电话备注')).toBe('notes');
    // A lead-source value such as 电话开发 is not a phone header.
    expect(matchHeaderText('电话开发').filter((c) => c.confidence >= 0.5)).toEqual([]);
  });

  it('discounts a label written with its value (报备人：张三)', () => {
    const [best] = matchHeaderText('报备人：张三');
    expect(best?.field).toBe('registrant');
    expect(best?.confidence).toBeLessThan(0.5);
  });

  describe('guards', () => {
    it('never reads 联系人 as a phone, nor 联系电话 as the contact', () => {
      expect(fieldsOf('联系人')).toEqual(['contactName']);
      expect(fieldsOf('联系人')).not.toContain('contactPhone');
      expect(fieldsOf('联系电话')).not.toContain('contactName');
      expect(fieldsOf('联系人电话')).not.toContain('contactName');
      expect(bestField('联系人电话')).toBe('contactPhone');
      expect(fieldsOf('Contact')).not.toContain('contactPhone');
      expect(fieldsOf('Contact phone')).not.toContain('contactName');
    });

    it('never reads 报备人 as a date, nor 报备日期/报备时间 as the registrant', () => {
      expect(fieldsOf('报备人')).not.toContain('registeredAt');
      expect(fieldsOf('报备日期')).not.toContain('registrant');
      expect(fieldsOf('报备时间')).not.toContain('registrant');
      expect(fieldsOf('报备人日期')).not.toContain('registrant');
      expect(fieldsOf('Registered by')).not.toContain('registeredAt');
    });

    it('keeps 预计签约金额, 预计签约单价 and 预计签约时间 apart', () => {
      expect(fieldsOf('预计签约金额')).toEqual(['expectedAmount']);
      expect(fieldsOf('预计签约单价')).toEqual(['expectedUnitPrice']);
      expect(fieldsOf('预计签约时间')).toEqual(['expectedSignDate']);
      expect(fieldsOf('预计签约金额(元)')).toEqual(['expectedAmount']);
      expect(fieldsOf('预计签约单价万元')).not.toContain('expectedAmount');
      expect(fieldsOf('预计签约日期')).not.toContain('registeredAt');
    });

    it('reads 客户类型/客户来源/客户需求 as their own fields, not the customer', () => {
      expect(fieldsOf('客户类型')).toEqual(['customerType']);
      expect(fieldsOf('客户来源')).toEqual(['source']);
      expect(fieldsOf('客户需求')).toEqual(['need']);
    });
  });
});

describe('detectHeader', () => {
  it('maps a traditional-Chinese header', () => {
    const header = [
      '客戶名稱',
      '客戶類型',
      '聯繫電話',
      '聯絡人',
      '報備人',
      '報備日期',
      '統一社會信用代碼',
      '備註',
    ];
    const fields: Field[] = [
      'customerName',
      'customerType',
      'contactPhone',
      'contactName',
      'registrant',
      'registeredAt',
      'creditCode',
      'notes',
    ];
    const detection = detect([header, ...dataRows(fields, 5)]);
    expect(detection.headerRow).toBe(1);
    expect(detection.columns.map((c) => c.field)).toEqual(fields);
    expect(detection.unmapped).toEqual([]);
  });

  it('maps the same header written in Taiwan or Hong Kong characters as in simplified', () => {
    const simplified = Object.keys(V1_HEADERS);
    for (const to of ['tw', 'hk', 't'] as const) {
      const convert = OpenCC.Converter({ from: 'cn', to });
      const traditional: string[] = simplified.map((header) => convert(header));
      expect(traditional).not.toEqual(simplified);
      const detection = detect([traditional, ...dataRows(Object.values(V1_HEADERS), 3)]);
      expect(detection.columns.map((c) => c.field)).toEqual(Object.values(V1_HEADERS));
    }
  });

  it('maps an English header', () => {
    const expected: Record<string, Field> = {
      'Company Name': 'customerName',
      'Contact Person': 'contactName',
      Mobile: 'contactPhone',
      'E-mail': 'email',
      Address: 'address',
      Industry: 'industry',
      'Lead Source': 'source',
      Requirements: 'need',
      'Deal Size': 'expectedAmount',
      'Unit Price': 'expectedUnitPrice',
      'Close Date': 'expectedSignDate',
      Salesperson: 'registrant',
      Department: 'team',
      Partner: 'channel',
      'Registration Date': 'registeredAt',
      'First Visit': 'firstVisitAt',
      Remarks: 'notes',
    };
    const detection = detect([Object.keys(expected), ...dataRows(Object.values(expected), 4)]);
    expect(mappingOf(detection)).toEqual(expected);
  });

  it('skips a merged title, a 填表说明 note and reads a merged group row with its two-row header (exceljs form)', () => {
    const grid: Row[] = [
      Array<CellValue>(8).fill('客户报备登记表'),
      [
        '填表说明：1. 带*号为必填项；2. 日期请按 2026-01-01 格式填写。',
        null,
        null,
        null,
        null,
        null,
        null,
        null,
      ],
      ['客户信息', '客户信息', '客户信息', '联系人', '联系人', '报备信息', '报备信息', '报备信息'],
      ['*客户名称', '客户类型', '所在地区', '姓名', '电话', '报备人', '日期', '备注'],
      ...dataRows(
        [
          'customerName',
          'customerType',
          'region',
          'contactName',
          'contactPhone',
          'registrant',
          'registeredAt',
          'notes',
        ],
        6,
      ),
    ];
    const detection = detect(grid);
    expect(detection.headerRow).toBe(4);
    expect(detection.headerRows).toEqual([3, 4]);
    expect(detection.dataStartRow).toBe(5);
    expect(mappingOf(detection)).toEqual({
      '*客户名称': 'customerName',
      客户类型: 'customerType',
      所在地区: 'region',
      姓名: 'contactName',
      电话: 'contactPhone',
      报备人: 'registrant',
      日期: 'registeredAt',
      备注: 'notes',
    });
    expect(detection.columns.find((c) => c.header === '姓名')?.group).toBe('联系人');
  });

  it('keeps a group row that adds nothing to the mapping as part of the header', () => {
    const grid: Row[] = [
      ['客户信息', '客户信息', '客户信息', '报备信息', '报备信息'],
      ['客户名称', '联系人', '联系电话', '报备人', '报备日期'],
      ...dataRows(['customerName', 'contactName', 'contactPhone', 'registrant', 'registeredAt'], 4),
    ];
    const detection = detect(grid);
    expect(detection.headerRows).toEqual([1, 2]);
    expect(detection.columns.map((c) => c.group)).toEqual([
      '客户信息',
      '客户信息',
      '客户信息',
      '报备信息',
      '报备信息',
    ]);
    expect(detection.columns.map((c) => c.field)).toEqual([
      'customerName',
      'contactName',
      'contactPhone',
      'registrant',
      'registeredAt',
    ]);
  });

  it('does not take a merged title right above the header for a group row', () => {
    const grid: Row[] = [
      Array<CellValue>(4).fill('报备客户'),
      ['客户名称', '联系电话', '报备人', '报备日期'],
      ...dataRows(['customerName', 'contactPhone', 'registrant', 'registeredAt'], 4),
    ];
    const detection = detect(grid);
    expect(detection.headerRows).toEqual([2]);
    expect(detection.columns.every((c) => c.group === undefined)).toBe(true);

    // Still a title when data rows run wider than the merged title.
    const wide: Row[] = [
      Array<CellValue>(4).fill('客户报备登记表'),
      ['客户名称', '联系电话', '报备人', '报备日期'],
      ...dataRows(['customerName', 'contactPhone', 'registrant', 'registeredAt'], 4).map((row) => [
        ...row,
        '附加1',
        '附加2',
        '附加3',
      ]),
    ];
    expect(detect(wide).headerRows).toEqual([2]);
  });

  it('reads the same sheet when merged cells hold their text only in the first cell', () => {
    const grid: Row[] = [
      ['客户报备登记表', null, null, null, null, null, null],
      ['注：本表由业务员填写，报备后3个工作日内审核。', null, null, null, null, null, null],
      [],
      ['客户信息', null, '联系人', null, null, '报备信息', null],
      ['客户名称', '客户类型', '姓名', '电话', '职务', '报备人', '报备时间'],
      ...dataRows(
        [
          'customerName',
          'customerType',
          'contactName',
          'contactPhone',
          'contactTitle',
          'registrant',
          'registeredAt',
        ],
        6,
      ),
    ];
    const detection = detect(grid);
    expect(detection.headerRow).toBe(5);
    expect(detection.headerRows).toEqual([4, 5]);
    expect(detection.columns.map((c) => c.field)).toEqual([
      'customerName',
      'customerType',
      'contactName',
      'contactPhone',
      'contactTitle',
      'registrant',
      'registeredAt',
    ]);
  });

  it('combines a header split over two rows', () => {
    const grid: Row[] = [
      ['客户', '联系', '报备', '预计签约', '预计签约', '预计签约'],
      ['名称', '电话', '人', '金额', '单价', '时间'],
      ...dataRows(
        ['customerName', 'contactPhone', 'registrant', 'expectedAmount', undefined, 'expectedSignDate'],
        5,
      ),
    ];
    const detection = detect(grid);
    expect(detection.headerRows).toEqual([1, 2]);
    expect(detection.headerRow).toBe(2);
    expect(detection.dataStartRow).toBe(3);
    expect(detection.columns.map((c) => c.field)).toEqual([
      'customerName',
      'contactPhone',
      'registrant',
      'expectedAmount',
      'expectedUnitPrice',
      'expectedSignDate',
    ]);
  });

  it('reads a vertically merged two-row header kept only in its upper cell', () => {
    const grid: Row[] = [
      ['客户名称', '联系人', null, '报备人'],
      [null, '姓名', '手机', null],
      ...dataRows(['customerName', 'contactName', 'contactPhone', 'registrant'], 4),
    ];
    const detection = detect(grid);
    expect(detection.headerRows).toEqual([1, 2]);
    expect(mappingOf(detection)).toEqual({
      客户名称: 'customerName',
      姓名: 'contactName',
      手机: 'contactPhone',
      报备人: 'registrant',
    });
  });

  it('reads 首年 under a 预计金额（万元） group as the expected amount, and leaves 次年 unmapped', () => {
    // The first year's amount is what the deal is expected to sign for first (R15 ranks by it); a
    // later year's is no field of the record, so it is reported as an unmapped column.
    const grid: Row[] = [
      ['客户名称', '联系电话', '报备人', '预计金额（万元）', null],
      [null, null, null, '首年', '次年'],
      ...dataRows(['customerName', 'contactPhone', 'registrant', undefined, undefined], 4),
    ];
    const detection = detect(grid);
    expect(detection.headerRows).toEqual([1, 2]);
    expect(detection.columns.map((c) => [c.header, c.group, c.field])).toEqual([
      ['客户名称', undefined, 'customerName'],
      ['联系电话', undefined, 'contactPhone'],
      ['报备人', undefined, 'registrant'],
      ['首年', '预计金额（万元）', 'expectedAmount'],
      ['次年', '预计金额（万元）', null],
    ]);
    // 首年 alone, or under a group that names no amount, is no field.
    expect(bestField('首年')).toBeUndefined();
    expect(matchHeaderText('客户信息 首年').filter((c) => c.confidence >= 0.5)).toEqual([]);
  });

  it('does not take a text-only data row with a blank cell for the lower row of a two-row header', () => {
    const grid: Row[] = [
      ['客户名称', '联系电话', '报备人', '备注', null],
      ['上海华信科技有限公司', null, '王磊', '老客户', '二期'],
      ['杭州云帆网络科技有限公司', '13987654321', '王磊', '转介绍', ''],
    ];
    const detection = detect(grid);
    expect([detection.headerRows, detection.dataStartRow]).toEqual([[1], 2]);
  });

  it('finds a header at row 5 under a title, blank rows and form fields', () => {
    const fields: Field[] = ['customerName', 'contactPhone', 'registrant', 'registeredAt'];
    const grid: Row[] = [
      ['华东一部客户报备表'],
      [],
      ['制表单位：华东一部', null, '制表日期：2026-05-01'],
      [null, null, null, null],
      ['客户名称', '手机号', '业务员', '登记时间'],
      ...dataRows(fields, 5),
    ];
    const detection = detect(grid);
    expect(detection.headerRow).toBe(5);
    expect(detection.headerRows).toEqual([5]);
    expect(detection.dataStartRow).toBe(6);
    expect(detection.columns.map((c) => c.field)).toEqual(fields);
  });

  it('only scans maxScanRows rows', () => {
    const fields: Field[] = ['customerName', 'contactPhone', 'registrant'];
    const grid: Row[] = [
      ...Array.from({ length: 34 }, (): Row => []),
      ['客户名称', '联系电话', '报备人'],
      ...dataRows(fields, 3),
    ];
    expect(detectHeader(grid)).toBeNull();
    expect(detectHeader(grid, { maxScanRows: 40 })?.headerRow).toBe(35);
  });

  it('returns null when nothing looks like a header', () => {
    expect(detectHeader([])).toBeNull();
    expect(
      detectHeader([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    ).toBeNull();
    expect(detectHeader([['客户报备登记表'], ['杭州明远科技有限公司', '张伟']])).toBeNull();
  });

  it('reads a two-column header ending in 备注 as a header, not a note', () => {
    const detection = detect([
      ['客户名称', '备注'],
      ['杭州明远科技有限公司', '老客户'],
    ]);
    expect(detection.headerRow).toBe(1);
    expect(mappingOf(detection)).toEqual({ 客户名称: 'customerName', 备注: 'notes' });
  });

  it('gives each field to one column and reports the unmapped columns', () => {
    const grid: Row[] = [
      ['序号', '客户名称', '联系电话', '手机', '状态', '报备人'],
      ...dataRows([undefined, 'customerName', 'contactPhone', 'contactPhone', undefined, 'registrant'], 3),
    ];
    const detection = detect(grid);
    // Of two phone columns the mobile one holds the phone (R8), the other is its fallback.
    expect(mappingOf(detection)).toEqual({
      客户名称: 'customerName',
      手机: 'contactPhone',
      报备人: 'registrant',
    });
    expect(detection.unmapped).toEqual([
      { column: 1, header: '序号' },
      { column: 3, header: '联系电话' },
      { column: 5, header: '状态' },
    ]);
    // The losing phone column still says what it could be.
    expect(detection.columns[2]?.alternatives?.[0]?.field).toBe('contactPhone');
    expect(detection.confidence).toBeLessThan(1);
  });

  it.each([
    [['客户名称', '电话', '手机', '报备人'], '手机', '电话'],
    [['客户名称', '联系电话', '手机号码', '报备人'], '手机号码', '联系电话'],
    [['客户名称', '手机', '座机', '报备人'], '手机', '座机'],
    [['客戶名稱', '電話', '手機', '報備人'], '手機', '電話'],
    [['客戶名稱', '電話', '行動電話', '報備人'], '行動電話', '電話'],
    [['客户名称', '电话', '手提电话', '报备人'], '手提电话', '电话'],
    [['Customer', 'Phone', 'Mobile', 'Registrant'], 'Mobile', 'Phone'],
  ])(
    '[R8] gives the phone to the mobile column of %j, the other is its fallback',
    (header, mobile, other) => {
      const detection = detect([header, ['上海华信科技有限公司', '021-12345678', '13912345678', '王磊']]);
      expect(detection.columns.find((c) => c.field === 'contactPhone')?.header).toBe(mobile);
      expect(detection.columns.find((c) => c.header === other)?.field).toBeNull();
      expect(phoneFallbackColumn(detection.columns)).toBe(header.indexOf(other) + 1);
    },
  );

  it.each([
    [['客户名称', '联系电话', '报备人', '报备人手机', '客户来源'], '联系电话', '报备人手机'],
    [['客户名称', '手机', '业务员', '业务员电话', '客户来源'], '手机', '业务员电话'],
    [['客户名称', '报备人电话', '联系电话', '报备人', '客户来源'], '联系电话', '报备人电话'],
    [['客户名称', '电话', '渠道', '渠道手机', '客户来源'], '电话', '渠道手机'],
    [['Customer', 'Phone', 'Sales rep', 'Sales rep mobile', 'Source'], 'Phone', 'Sales rep mobile'],
    // Whoever referred the customer, the partner's own contact, and our staff named by their part in the form.
    [['客户名称', '联系电话', '推荐人', '推荐人电话', '客户来源'], '联系电话', '推荐人电话'],
    [['客户名称', '电话', '介绍人', '介绍人手机', '客户来源'], '电话', '介绍人手机'],
    [['客户名称', '电话', '渠道', '渠道联系人手机', '客户来源'], '电话', '渠道联系人手机'],
    [['客户名称', '联系电话', '中介', '中介联系人电话', '客户来源'], '联系电话', '中介联系人电话'],
    [['客户名称', '电话', '邀约人', '邀约人手机', '客户来源'], '电话', '邀约人手机'],
    [['客户名称', '电话', '录入人', '录入人电话', '客户来源'], '电话', '录入人电话'],
    [['Customer', 'Phone', 'Referrer', 'Referrer mobile', 'Source'], 'Phone', 'Referrer mobile'],
    [['Customer', 'Phone', 'Partner', 'Partner contact mobile', 'Source'], 'Phone', 'Partner contact mobile'],
  ])(
    "[R8] never takes the registrant's or the partner's phone for the customer's in %j",
    (header, customerPhone, other) => {
      const detection = detect([
        header,
        ['上海华信科技有限公司', '021-12345678', '王磊', '13912345678', '展会'],
      ]);
      expect(detection.columns.find((c) => c.field === 'contactPhone')?.header).toBe(customerPhone);
      // Not the customer's number: read neither as the phone nor as its fallback.
      expect(detection.columns.find((c) => c.header === other)?.field).toBeNull();
      expect(phoneFallbackColumn(detection.columns)).toBeNull();
    },
  );

  it.each([
    ['报备人电话', '报备人'],
    ['推荐人电话', '推荐人'],
    ['渠道联系人电话', '渠道'],
    ['Sales rep phone', 'Sales rep'],
  ])("[R8] maps no phone when the sheet's only phone column is someone else's (%s)", (otherPhone, other) => {
    const detection = detect([
      ['客户名称', '客户类型', other, otherPhone, '客户来源'],
      ['上海华信科技有限公司', '企业', '王磊', '13912345678', '展会'],
    ]);
    const column = detection.columns.find((c) => c.header === otherPhone);
    expect(column?.field).toBeNull();
    // Still offered, so a person who knows better can map it by hand.
    expect(column?.alternatives?.map((a) => a.field)).toContain('contactPhone');
  });

  it.each(['联系人电话', '客户电话', '对接人电话', '关键人手机', '客户联系人手机', '法人电话'])(
    "[R8] still reads %s, the customer's side, as the customer's phone",
    (header) => {
      const detection = detect([
        ['客户名称', header, '报备人', '客户来源'],
        ['上海华信科技有限公司', '13912345678', '王磊', '展会'],
      ]);
      expect(detection.columns.find((c) => c.field === 'contactPhone')?.header).toBe(header);
    },
  );

  it('has no phone fallback with one phone column, or when the phone is not mapped', () => {
    expect(phoneFallbackColumn(detect([['客户名称', '手机', '报备人']]).columns)).toBeNull();
    expect(
      phoneFallbackColumn([
        { column: 1, header: '客户名称', field: 'customerName' },
        { column: 2, header: '电话', field: null },
      ]),
    ).toBeNull();
  });

  it('prefers the specific column for a field over a generic one', () => {
    const grid: Row[] = [
      ['日期', '客户名称', '报备日期', '联系电话'],
      ...dataRows(['registeredAt', 'customerName', 'registeredAt', 'contactPhone'], 3),
    ];
    const detection = detect(grid);
    expect(mappingOf(detection)).toEqual({
      客户名称: 'customerName',
      报备日期: 'registeredAt',
      联系电话: 'contactPhone',
    });
  });

  it('maps every column of a shuffled header to the same field (property)', () => {
    const entries = Object.entries(V1_HEADERS);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(entries, { minLength: 3 }),
        fc.nat({ max: 6 }),
        (columns, blankRowsAbove) => {
          const grid: Row[] = [
            ...Array.from({ length: blankRowsAbove }, (): Row => []),
            columns.map(([header]) => header),
            ...dataRows(
              columns.map(([, field]) => field),
              4,
            ),
          ];
          const detection = detectHeader(grid);
          expect(detection?.headerRow).toBe(blankRowsAbove + 1);
          expect(detection === null ? {} : mappingOf(detection)).toEqual(Object.fromEntries(columns));
        },
      ),
      { seed: 20260501, numRuns: 200 },
    );
  });
});

describe('渠道 resolved from the column values', () => {
  const header = ['客户名称', '联系电话', '报备人', '渠道'];

  function withChannelValues(values: string[], extraHeader?: [string, string]): HeaderDetection {
    const head = extraHeader === undefined ? header : [...header, extraHeader[0]];
    const rows = values.map((value, i): Row => {
      const row: Row = [sampleValue('customerName', i), sampleValue('contactPhone', i), '张伟', value];
      return extraHeader === undefined ? row : [...row, extraHeader[1]];
    });
    return detect([head, ...rows]);
  }

  it('is the lead source when the values are lead sources', () => {
    const detection = withChannelValues([
      '电话开发',
      '官网咨询',
      '渠道推荐',
      '老客户介绍',
      '展会',
      '陌生拜访',
    ]);
    expect(detection.columns[3]?.field).toBe('source');
  });

  it('is the partner channel when the values are partner companies', () => {
    const detection = withChannelValues(['链家', '我爱我家', '中原地产', '贝壳找房', '某某房产中介有限公司']);
    expect(detection.columns[3]?.field).toBe('channel');
  });

  it('is the lead source when the values do not say and no other column is the source', () => {
    const detection = withChannelValues(['张三', '李四', '王五']);
    expect(detection.columns[3]?.field).toBe('source');
  });

  it('is the channel when the values do not say and another column is the source', () => {
    const detection = withChannelValues(['张三', '李四', '王五'], ['客户来源', '官网咨询']);
    expect(mappingOf(detection)).toMatchObject({ 渠道: 'channel', 客户来源: 'source' });
  });

  it('leaves a named partner column (渠道名称) as the channel whatever it holds', () => {
    const detection = detect([
      ['客户名称', '联系电话', '渠道名称'],
      ['杭州明远科技有限公司', '13812345678', '电话开发'],
    ]);
    expect(detection.columns[2]?.field).toBe('channel');
  });
});

describe('classifyRow', () => {
  const headerRow = ['客户名称', '联系电话', '报备人', '预计签约金额'];
  const grid: Row[] = [
    ['客户报备登记表', '客户报备登记表', '客户报备登记表', '客户报备登记表'],
    headerRow,
    ['杭州明远科技有限公司', '13812345678', '张伟', 500000],
    ['注塑科技有限公司', '13912345678', '李娜', '50万'],
  ];
  const detection = detect(grid);

  it('tells data from blank rows', () => {
    expect(classifyRow(grid[2] ?? [], detection)).toBe('data');
    expect(classifyRow(grid[3] ?? [], detection)).toBe('data');
    expect(classifyRow([], detection)).toBe('blank');
    expect(classifyRow([null, '  ', '', null], detection)).toBe('blank');
  });

  it('reads a row of placeholders alone (the / or 无 a paper-like form puts on its unused lines) as blank', () => {
    expect(classifyRow(['/', '/', '/', '/'], detection)).toBe('blank');
    expect(classifyRow(['无', null, '—', '无'], detection)).toBe('blank');
    // One real value makes it a row (its placeholder customer is reported missing).
    expect(classifyRow(['无', '13812345678', '/', null], detection)).toBe('data');
  });

  it('reads placeholders and blanks with invisible characters beside them (U+200B, U+FEFF…) as blank', () => {
    expect(classifyRow(['无\u200B', '/\u2060', '\uFEFF', '\u200C—\u200D'], detection)).toBe('blank');
  });

  it('maps a header cell holding invisible characters, keeping its text as written', () => {
    const found = detect([
      ['客户名称\u200B', '联系电话\u2060', '\u200B', '报备人'],
      ['杭州明远科技有限公司', '13812345678', null, '张伟'],
      // The header repeated (a printed sheet's page break) with the characters elsewhere.
      ['\u200B客户名称', '联系电话', null, '报备人\u200D'],
    ]);
    // The add-in and the Sheets sync compare the header cell with this text on every run.
    expect(found.columns.map((c) => [c.header, c.field])).toEqual([
      ['客户名称\u200B', 'customerName'],
      ['联系电话\u2060', 'contactPhone'],
      ['报备人', 'registrant'],
    ]);
    expect(classifyRow(['\u200B客户名称', '联系电话', null, '报备人\u200D'], found)).toBe('header-repeat');
  });

  it('recognises 合计/总计/小计/Total rows, also spaced out or in a later leading column', () => {
    expect(classifyRow(['合计', null, null, 1500000], detection)).toBe('total');
    expect(classifyRow(['合 计', null, null, 1500000], detection)).toBe('total');
    expect(classifyRow(['總計：', null, null, 1500000], detection)).toBe('total');
    expect(classifyRow([null, '小计', null, 900000], detection)).toBe('total');
    expect(classifyRow(['Total', null, null, 1500000], detection)).toBe('total');
    expect(classifyRow(['合计金额公司', '13812345678', '张伟', 1], detection)).toBe('data');
  });

  it('recognises 注/备注/说明/填表说明/Note rows, merged or not', () => {
    expect(classifyRow(['注：以上客户均已电话核实。', null, null, null], detection)).toBe('note');
    expect(classifyRow(['备注：保护期3个月', '备注：保护期3个月', '备注：保护期3个月'], detection)).toBe(
      'note',
    );
    expect(classifyRow(['说明：报备以系统时间为准', null, null, null], detection)).toBe('note');
    expect(classifyRow(['填表说明：带*号为必填项', null, null, null], detection)).toBe('note');
    expect(classifyRow(['Note: protection lasts 3 months', null, null, null], detection)).toBe('note');
    // A customer whose name starts with 注 is still a customer.
    expect(classifyRow(['注塑科技有限公司', null, null, null], detection)).toBe('data');
  });

  it('recognises the header repeated inside the data', () => {
    expect(classifyRow(headerRow, detection)).toBe('header-repeat');
    expect(classifyRow(['客户名称', '联系电话', null, null], detection)).toBe('header-repeat');
  });

  it('recognises the header repeated inside the data when the sheet carries the result columns too', () => {
    // A sheet the add-in prepared, a checked copy imported again, a Sheets link on such a sheet: the
    // five result columns sit in the header, and a page break repeats only the data columns.
    const results = ['报备编号', '状态', '保护截止', '冲突说明', '提示'];
    const withResults = detect([
      ['客户名称', '联系电话', ...results],
      ['杭州明远科技有限公司', '13812345678', 'BB-2026-000001', '已保护', '2027-02-28', null, null],
    ]);
    expect(classifyRow(['客户名称', '联系电话', null, null, null, null, null], withResults)).toBe(
      'header-repeat',
    );
    expect(classifyRow(['客户名称', '联系电话', ...results], withResults)).toBe('header-repeat');
    // One header word among data is still data.
    expect(classifyRow(['客户名称', '13812345678', null, null, null, null, null], withResults)).toBe('data');
  });

  describe('example rows (填写示例)', () => {
    const header = ['序号', '客户名称', '联系人', '手机', '报备人', '备注'];
    const example = detect([header, ['1', '杭州明远科技有限公司', '王芳', '13812345678', '张伟', null]]);
    const row = (over: Partial<Record<'no' | 'name' | 'contact' | 'phone' | 'notes', string>>) => [
      over.no ?? '1',
      over.name ?? '杭州明远科技有限公司',
      over.contact ?? '王芳',
      over.phone ?? '13812345678',
      '张伟',
      over.notes ?? null,
    ];

    it('reads a row marked 示例/例/样例 in 序号 or 备注, or a 客户名称 written 示例：…, as an example', () => {
      for (const no of ['示例', '例', '样例', '例1', '【示例】', '(例)', '範例', 'Example']) {
        expect([no, classifyRow(row({ no }), example)]).toEqual([no, 'example']);
      }
      for (const notes of ['示例', '示例，请删除此行', '此行为填写示例', '样例：填写时删除']) {
        expect([notes, classifyRow(row({ notes }), example)]).toEqual([notes, 'example']);
      }
      for (const name of [
        '示例：上海华瑞机电设备有限公司',
        '例: 北京恒泰贸易有限公司',
        '【样例】广州德隆食品有限公司',
      ]) {
        expect([name, classifyRow(row({ name }), example)]).toEqual([name, 'example']);
      }
    });

    it('reads a placeholder 客户名称 (某某, XX, XXX, ××) with a placeholder contact or phone as an example', () => {
      const cases: Parameters<typeof row>[0][] = [
        { name: '上海某某科技有限公司', contact: '张三', phone: '13800000000' },
        { name: 'XX公司', phone: '138xxxxxxxx' },
        { name: 'XXX有限公司', contact: '李四' },
        { name: '××贸易有限公司', contact: '王某某' },
        { name: '某某公司', phone: '138 0000 0000' },
      ];
      for (const c of cases) expect([c, classifyRow(row(c), example)]).toEqual([c, 'example']);
    });

    it('reads the classic template example (上海某公司 / 张三 / 13800000000, 13800138000) as an example', () => {
      const cases: Parameters<typeof row>[0][] = [
        { name: '上海某公司', contact: '张三', phone: '13800000000' },
        { name: '上海某公司', contact: '王芳', phone: '13800138000' },
        { name: '北京某有限公司', contact: '李四' },
        { name: '某科技有限公司', contact: '王五' },
        { name: '广州某贸易公司', phone: '+86 138-0013-8000' },
        { name: 'XX公司', contact: '王五' },
        { name: '某某公司', contact: '李四', phone: '13800138000' },
        { name: '×××公司', contact: '张三' },
        { name: '深圳某集团', contact: '王五' },
      ];
      for (const c of cases) expect([c, classifyRow(row(c), example)]).toEqual([c, 'example']);
    });

    it('keeps near misses of the classic example as data: 某 inside a word, 张三丰, a real phone, one signal', () => {
      const cases: Parameters<typeof row>[0][] = [
        // 某 inside a word of the name, before the company word: a real name, whatever the contact.
        { name: '上海某丰公司', contact: '张三', phone: '13800000000' },
        { name: '上海某丰科技有限公司', contact: '张三', phone: '13800138000' },
        // A placeholder company with a real person and a real phone (one signal alone).
        { name: '上海某公司', contact: '张三丰', phone: '13912345678' },
        { name: '上海某公司', contact: '王芳', phone: '13800138001' },
        { name: '上海某公司' },
        // The placeholder person and phone beside a real company name.
        { name: '上海华信科技有限公司', contact: '张三', phone: '13800138000' },
      ];
      for (const c of cases) expect([c, classifyRow(row(c), example)]).toEqual([c, 'data']);
    });

    it('keeps near misses as data: 某 or XX inside a real name, a placeholder name alone, 例如 in a note', () => {
      const cases: Parameters<typeof row>[0][] = [
        // XX is part of a word (a brand), not a placeholder, even beside a placeholder contact and phone.
        { name: '宁波XXL服饰有限公司', contact: '张三', phone: '13800000000' },
        { name: 'MAXXIS轮胎(上海)有限公司', contact: '张三' },
        // One 某 is a character of the name (某 is a surname too); a single signal is not enough.
        { name: '上海某丰贸易有限公司', contact: '张三', phone: '13800000000' },
        { name: '上海某某科技有限公司' },
        { contact: '张三', phone: '13800000000' },
        // A masked phone (R8) is a real registration's phone, not a placeholder.
        { name: 'XX公司', phone: '138****5678' },
        { name: '示例科技有限公司' },
        { notes: '例如需要先报价' },
        { notes: '客户要求示例方案' },
      ];
      for (const c of cases) expect([c, classifyRow(row(c), example)]).toEqual([c, 'data']);
    });

    it('reads the marker from 客户名称 under a header without 序号 or 备注', () => {
      expect(classifyRow(['示例：杭州明远科技有限公司', '13812345678', '张伟', 1], detection)).toBe(
        'example',
      );
      expect(classifyRow(['示例', '13812345678', '张伟', 1], detection)).toBe('example');
      // Other columns hold values, not markers: a registrant called 例 is no marker.
      expect(classifyRow(['杭州明远科技有限公司', '13812345678', '例', 1], detection)).toBe('data');
    });
  });

  it('skips trailing total and note rows when sampling data, and reports them after the data', () => {
    const full: Row[] = [...grid, ['合计', null, null, 1000000], ['注：本表一式两份。', null, null, null]];
    const again = detect(full);
    expect(again.dataStartRow).toBe(3);
    expect(full.slice(again.dataStartRow - 1).map((row) => classifyRow(row, again))).toEqual([
      'data',
      'data',
      'total',
      'note',
    ]);
  });
});

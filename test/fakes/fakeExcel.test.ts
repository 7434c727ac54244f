/**
 * The fake Excel itself: each rule it enforces throws when broken, as office-js does — reading
 * before load + sync, queued writes invisible before sync, address and payload limits, null
 * objects, API sets by version, request contexts — and the counters tests rely on are right.
 */
import { describe, expect, it } from 'vitest';
import {
  createFakeOffice,
  installFakeOffice,
  parseAddressList,
  PAYLOAD_LIMIT_BYTES,
  RANGES_AREA_LIMIT,
  type FakeOffice,
  type FakeOfficeOptions,
} from './fakeExcel.js';

/** The served script knows every object (1.18) unless a test says otherwise: isSetSupported is the host's. */
function fake(apiVersion = '1.18', extra: Partial<FakeOfficeOptions> = {}): FakeOffice {
  return createFakeOffice({
    apiVersion,
    servedApiVersion: '1.18',
    ...extra,
    sheets: [
      {
        name: '报备',
        values: [
          ['客户名称', '联系电话'],
          ['甲公司', '13812345678'],
          ['乙公司', 13912345678],
        ],
      },
      { name: '待审核' },
    ],
  });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return 'no error';
}

describe('fake Excel', () => {
  it('refuses to read a property before load and sync (PropertyNotLoaded)', async () => {
    const f = fake();
    await f.Excel.run(async (context) => {
      const range = context.workbook.worksheets.getItem('报备').getRange('A1:B3');
      expect(() => range.values).toThrow(expect.objectContaining({ code: 'PropertyNotLoaded' }));
      range.load('values');
      expect(() => range.values).toThrow(expect.objectContaining({ code: 'PropertyNotLoaded' }));
      await context.sync();
      expect(range.values).toEqual([
        ['客户名称', '联系电话'],
        ['甲公司', '13812345678'],
        ['乙公司', 13912345678],
      ]);
      expect(() => range.address).toThrow(expect.objectContaining({ code: 'PropertyNotLoaded' }));
    });
  });

  it('queues writes until sync: the workbook does not change before', async () => {
    const f = fake();
    await f.Excel.run(async (context) => {
      context.workbook.worksheets.getItem('报备').getRange('C1').values = [['状态']];
      expect(f.workbook.values('报备', 'C1')).toEqual([['']]);
      await context.sync();
      expect(f.workbook.values('报备', 'C1')).toEqual([['状态']]);
    });
  });

  it('syncs pending operations when Excel.run ends, and counts every sync', async () => {
    const f = fake();
    await f.Excel.run(async (context) => {
      context.workbook.worksheets.getItem('报备').getRange('C1').values = [['x']];
      await context.sync();
      context.workbook.worksheets.getItem('报备').getRange('C2').values = [['y']];
    });
    expect(f.syncCount()).toBe(2);
    expect(f.workbook.values('报备', 'C1:C2')).toEqual([['x'], ['y']]);
    expect(f.payloads().map((p) => p.sync)).toEqual([1, 2]);
  });

  it('refuses values whose size does not match the range, and applies a single value to every cell', async () => {
    const f = fake();
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets.getItem('报备').getRange('C1:D2').values = [['a', 'b']];
          await context.sync();
        }),
      ),
    ).toBe('InvalidArgument');
    await f.Excel.run(async (context) => {
      const range = context.workbook.worksheets.getItem('报备').getRange('C1:D2');
      range.numberFormat = '@' as unknown as string[][];
      await context.sync();
    });
    expect(f.workbook.numberFormats('报备', 'C1:D2')).toEqual([
      ['@', '@'],
      ['@', '@'],
    ]);
  });

  it('null in a values array leaves the cell as it was', async () => {
    const f = fake();
    await f.Excel.run(async (context) => {
      context.workbook.worksheets.getItem('报备').getRange('A2:B2').values = [[null, '021-12345678']];
      await context.sync();
    });
    expect(f.workbook.values('报备', 'A2:B2')).toEqual([['甲公司', '021-12345678']]);
  });

  it('takes text starting with = + - as a formula, numbers and ISO dates as such, unless the cell is text (@)', async () => {
    const f = fake();
    await f.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem('待审核');
      sheet.getRange('A1:D1').values = [['=HYPERLINK("x")', '00123', '2027-02-22', '-abc']];
      const text = sheet.getRange('A2:D2');
      text.numberFormat = '@' as unknown as string[][];
      text.values = [['=HYPERLINK("x")', '00123', '2027-02-22', '-abc']];
      await context.sync();
    });
    expect(f.workbook.formulaCells('待审核').sort()).toEqual(['A1', 'D1']);
    expect(f.workbook.values('待审核', 'B1:C1')).toEqual([[123, 46440]]);
    expect(f.workbook.values('待审核', 'A2:D2')).toEqual([
      ['=HYPERLINK("x")', '00123', '2027-02-22', '-abc'],
    ]);
  });

  it('refuses a getRanges address of 8,192 characters or more (InvalidArgument) and records the longest', async () => {
    const f = fake();
    const areas = Array.from({ length: 1200 }, (_, i) => `A${i * 2 + 1}:C${i * 2 + 1}`);
    const long = areas.join(',');
    expect(long.length).toBeGreaterThanOrEqual(8192);
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets.getItem('报备').getRanges(long).format.fill.color = '#FFC7CE';
          await context.sync();
        }),
      ),
    ).toBe('InvalidArgument');
    const short = areas.slice(0, RANGES_AREA_LIMIT).join(',');
    await f.Excel.run(async (context) => {
      context.workbook.worksheets.getItem('报备').getRanges(short).format.fill.color = '#ffc7ce';
      await context.sync();
    });
    expect(f.workbook.fills('报备', 'A1:A3')).toEqual([['#FFC7CE'], [null], ['#FFC7CE']]);
    expect(f.payloads().at(-1)?.longestRangesAddress).toBe(short.length);
  });

  it('refuses a request over 5 MB (RequestPayloadSizeLimitExceeded) and applies none of it', async () => {
    const f = fake();
    const big = Array.from({ length: 2000 }, () => ['x'.repeat(3000)]);
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          const sheet = context.workbook.worksheets.getItem('待审核');
          sheet.getRange('A1').values = [['first']];
          sheet.getRange('B1:B2000').values = big;
          await context.sync();
        }),
      ),
    ).toBe('RequestPayloadSizeLimitExceeded');
    expect(f.workbook.values('待审核', 'A1')).toEqual([['']]);
    const failed = f.payloads()[0];
    expect(failed?.requestBytes).toBeGreaterThan(PAYLOAD_LIMIT_BYTES);
    expect(failed?.failed).toBe('RequestPayloadSizeLimitExceeded');
  });

  it('refuses a response over 5 MB (ResponsePayloadSizeLimitExceeded)', async () => {
    const f = fake();
    f.workbook.setValues(
      '待审核',
      'A1',
      Array.from({ length: 2000 }, () => ['长'.repeat(1000)]),
    );
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets.getItem('待审核').getRange('A1:A2000').load('values');
          await context.sync();
        }),
      ),
    ).toBe('ResponsePayloadSizeLimitExceeded');
    expect(f.payloads()[0]?.responseBytes).toBeGreaterThan(PAYLOAD_LIMIT_BYTES);
  });

  it('gives null objects for missing items, and fails a sync that uses a missing item', async () => {
    const f = fake();
    await f.Excel.run(async (context) => {
      const sheets = context.workbook.worksheets;
      const missing = sheets.getItemOrNullObject('没有');
      const present = sheets.getItemOrNullObject('待审核');
      expect(() => missing.isNullObject).toThrow(expect.objectContaining({ code: 'PropertyNotLoaded' }));
      await context.sync();
      expect(missing.isNullObject).toBe(true);
      expect(present.isNullObject).toBe(false);
      const empty = sheets.getItem('待审核').getUsedRangeOrNullObject(true);
      empty.load('address');
      await context.sync();
      expect(empty.isNullObject).toBe(true);
    });
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets.getItem('没有').getRange('A1').values = [['x']];
          await context.sync();
        }),
      ),
    ).toBe('ItemNotFound');
  });

  it('parses A1 addresses: sheet-qualified, quoted, absolute, whole rows and columns', () => {
    expect(parseAddressList("'待审核'!A1:C3")).toEqual([
      { sheet: '待审核', area: { top: 1, left: 1, bottom: 3, right: 3 } },
    ]);
    expect(parseAddressList("'It''s'!$B$2")).toEqual([
      { sheet: "It's", area: { top: 2, left: 2, bottom: 2, right: 2 } },
    ]);
    expect(parseAddressList('Sheet1!AA10:AB12,C5')).toEqual([
      { sheet: 'Sheet1', area: { top: 10, left: 27, bottom: 12, right: 28 } },
      { sheet: undefined, area: { top: 5, left: 3, bottom: 5, right: 3 } },
    ]);
    expect(parseAddressList('5:5')[0]?.area).toEqual({ top: 5, left: 1, bottom: 5, right: 16384 });
    expect(parseAddressList('B:D')[0]?.area).toEqual({ top: 1, left: 2, bottom: 1048576, right: 4 });
    expect(() => parseAddressList('A0')).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() => parseAddressList('hello world')).toThrow(
      expect.objectContaining({ code: 'InvalidArgument' }),
    );
  });

  it('reports addresses the way Excel does, quoting sheet names that need it', async () => {
    const f = fake();
    f.workbook.addSheet('客户 表');
    await f.Excel.run(async (context) => {
      const a = context.workbook.worksheets.getItem('待审核').getRange('b2:c3').load('address');
      const b = context.workbook.worksheets.getItem('客户 表').getRange('A1').load('address');
      await context.sync();
      expect(a.address).toBe('待审核!B2:C3');
      expect(b.address).toBe("'客户 表'!A1");
    });
  });

  it('knows API sets by version: notes need ExcelApi 1.18 (ApiNotFound on 1.9)', async () => {
    const old = fake('1.9');
    expect(old.Office.context.requirements.isSetSupported('ExcelApi', '1.9')).toBe(true);
    expect(old.Office.context.requirements.isSetSupported('ExcelApi', '1.18')).toBe(false);
    expect(
      await codeOf(
        old.Excel.run(async (context) => {
          const sheet = context.workbook.worksheets.getItem('报备');
          sheet.notes!.add(sheet.getRange('A2'), 'x');
          await context.sync();
        }),
      ),
    ).toBe('ApiNotFound');
    const current = fake('1.18');
    expect(current.Office.context.requirements.isSetSupported('ExcelApi', '1.18')).toBe(true);
    await current.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem('报备');
      sheet.notes!.add(sheet.getRange('A2'), '电话号码格式不正确');
      await context.sync();
    });
    expect(current.workbook.notes('报备')).toEqual([{ address: 'A2', content: '电话号码格式不正确' }]);
  });

  it('keeps one note per cell, on single cells only', async () => {
    const f = fake();
    f.workbook.addNote('报备', 'A2', '客户说下周联系');
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          const sheet = context.workbook.worksheets.getItem('报备');
          sheet.notes!.add(sheet.getRange('A2'), 'x');
          await context.sync();
        }),
      ),
    ).toBe('InvalidArgument');
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          const sheet = context.workbook.worksheets.getItem('报备');
          sheet.notes!.add(sheet.getRange('A2:A3'), 'x');
          await context.sync();
        }),
      ),
    ).toBe('InvalidArgument');
    await f.Excel.run(async (context) => {
      const notes = context.workbook.worksheets.getItem('报备').notes!.load('items/content');
      await context.sync();
      const location = notes.items[0]!.getLocation().load('address');
      await context.sync();
      expect(location.address).toBe('报备!A2');
      expect(notes.items[0]!.content).toBe('客户说下周联系');
    });
  });

  it('refuses overlapping tables and names blank or repeated header cells', async () => {
    const f = fake();
    f.workbook.setValues('待审核', 'A1', [
      ['名称', '', '名称'],
      [1, 2, 3],
    ]);
    await f.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem('待审核');
      sheet.tables.add(sheet.getRange('A1:C2'), true);
      const count = sheet.getRange('1:1').getTables(false).getCount();
      await context.sync();
      expect(count.value).toBe(1);
    });
    expect(f.workbook.tables()).toEqual([{ name: 'Table1', sheet: '待审核', address: 'A1:C2' }]);
    expect(f.workbook.values('待审核', 'A1:C1')).toEqual([['名称', '列2', '名称2']]);
    const error = await f.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem('待审核');
      sheet.tables.add(sheet.getRange('B2:D3'), true);
      return await context.sync().then(
        () => null,
        (e: unknown) => e,
      );
    });
    expect(error).toMatchObject({
      code: 'InvalidArgument',
      debugInfo: { errorLocation: 'TableCollection.add' },
    });
  });

  it('checks data validation rules: one criterion, formulas of at most 255 characters', async () => {
    const f = fake();
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets.getItem('报备').getRange('B2:B3').dataValidation.rule = {
            custom: { formula: `=LEN(B2)=${'1'.repeat(300)}` },
          };
          await context.sync();
        }),
      ),
    ).toBe('InvalidArgument');
    await f.Excel.run(async (context) => {
      const validation = context.workbook.worksheets.getItem('报备').getRange('B2:B3').dataValidation;
      validation.rule = { list: { inCellDropDown: true, source: '企业,个人,其他' } };
      validation.errorAlert = { showAlert: true, style: 'Warning', title: 't', message: 'm' };
      await context.sync();
    });
    expect(f.workbook.cell('报备', 'B3').validation).toEqual({
      rule: { list: { inCellDropDown: true, source: '企业,个人,其他' } },
      errorAlert: { showAlert: true, style: 'Warning', title: 't', message: 'm' },
    });
  });

  it('refuses objects of another request context and a finished one', async () => {
    const f = fake();
    let kept: { values: unknown } | undefined;
    await f.Excel.run(async (context) => {
      kept = context.workbook.worksheets.getItem('报备').getRange('A1');
      await context.sync();
    });
    expect(() => {
      if (kept) kept.values = [['x']];
    }).toThrow(expect.objectContaining({ code: 'InvalidRequestContext' }));
    await f.Excel.run(async (context) => {
      const other = context.workbook.worksheets.getItem('报备');
      expect(() => other.tables.add(kept as never, true)).toThrow(
        expect.objectContaining({ code: 'InvalidRequestContext' }),
      );
    });
  });

  it('counts calculation suspension and operations per sync', async () => {
    const f = fake();
    await f.Excel.run(async (context) => {
      context.application.suspendApiCalculationUntilNextSync();
      context.workbook.worksheets.getItem('报备').getRange('C1').values = [['x']];
      await context.sync();
      context.workbook.worksheets.getItem('报备').getRange('C2').values = [['y']];
      await context.sync();
    });
    const [first, second] = f.payloads();
    expect(first).toMatchObject({ calculationSuspended: true, operations: 2 });
    expect(second).toMatchObject({ calculationSuspended: false, operations: 1 });
    f.resetCounters();
    expect(f.syncCount()).toBe(0);
  });

  it('installs itself as Office and Excel on a global object', async () => {
    const target: Record<string, unknown> = {};
    const installed = installFakeOffice(target, { apiVersion: '1.9' });
    expect(target['Excel']).toBe(installed.Excel);
    expect(target['Office']).toBe(installed.Office);
    expect(target['__fakeOffice']).toBe(installed);
    await expect(installed.Office.onReady()).resolves.toEqual({ host: 'Excel', platform: 'OfficeOnline' });
  });

  it('serves only the API surface of the office.js it was given, whatever isSetSupported says', async () => {
    const stale = createFakeOffice({
      apiVersion: '1.18',
      servedApiVersion: '1.9',
      sheets: [{ name: '报备' }],
    });
    expect(stale.Office.context.requirements.isSetSupported('ExcelApi', '1.18')).toBe(true);
    expect(stale.Excel.NoteCollection).toBeUndefined();
    await stale.Excel.run(async (context) => {
      expect(context.workbook.worksheets.getItem('报备').notes).toBeUndefined();
      expect(context.workbook.comments).toBeUndefined();
    });
    const current = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: '报备' }] });
    expect(current.Excel.NoteCollection).toBeDefined();
  });

  it('names blank header cells of a new table in the UI language (列1 / Column1)', async () => {
    for (const [locale, expected] of [
      ['zh-CN', ['列1', '名称', '名称2']],
      ['en-US', ['Column1', '名称', '名称2']],
    ] as const) {
      const f = createFakeOffice({
        locale,
        sheets: [
          {
            name: 'S',
            values: [
              ['', '名称', '名称'],
              [1, 2, 3],
            ],
          },
        ],
      });
      await f.Excel.run(async (context) => {
        const sheet = context.workbook.worksheets.getItem('S');
        sheet.tables.add(sheet.getRange('A1:C2'), true);
        await context.sync();
      });
      expect(f.workbook.values('S', 'A1:C1')).toEqual([expected]);
    }
  });

  it('refuses a table over merged cells, and reads the cells a merge covers as empty', async () => {
    const f = createFakeOffice({
      sheets: [
        {
          name: 'S',
          values: [
            ['客户信息', '客户信息'],
            ['名称', '电话'],
            ['甲', '1'],
          ],
          merged: ['A1:B1'],
        },
      ],
    });
    const values = await f.Excel.run(async (context) => {
      const range = context.workbook.worksheets.getItem('S').getRange('A1:B1').load('values');
      await context.sync();
      return range.values;
    });
    expect(values).toEqual([['客户信息', '']]);
    const code = await codeOf(
      f.Excel.run(async (context) => {
        const sheet = context.workbook.worksheets.getItem('S');
        sheet.tables.add(sheet.getRange('A1:B3'), true);
        await context.sync();
      }),
    );
    expect(code).toBe('InvalidArgument');
    expect(f.workbook.tables()).toEqual([]);
  });

  it('refuses every write to a protected sheet (AccessDenied) and reports protection.protected', async () => {
    const f = createFakeOffice({ sheets: [{ name: 'S', values: [['名称']], protected: true }] });
    const state = await f.Excel.run(async (context) => {
      const protection = context.workbook.worksheets.getItem('S').protection.load('protected');
      await context.sync();
      return protection.protected;
    });
    expect(state).toBe(true);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fake's proxies, as the add-in sees them
    const writes: ((sheet: any) => void)[] = [
      (sheet) => (sheet.getRange('A2').values = [['x']]),
      (sheet) => (sheet.getRange('A2').numberFormat = [['@']]),
      (sheet) => (sheet.getRange('A1').format.fill.color = '#FF0000'),
      (sheet) => sheet.tables.add(sheet.getRange('A1:A2'), true),
      (sheet) => sheet.notes.add(sheet.getRange('A1'), 'x'),
    ];
    for (const write of writes) {
      expect(
        await codeOf(
          f.Excel.run(async (context) => {
            write(context.workbook.worksheets.getItem('S'));
            await context.sync();
          }),
        ),
      ).toBe('AccessDenied');
    }
    f.protectSheet('S', false);
    await f.Excel.run(async (context) => {
      context.workbook.worksheets.getItem('S').getRange('A2').values = [['x']];
      await context.sync();
    });
    expect(f.workbook.values('S', 'A2')).toEqual([['x']]);
  });

  it('fails a batch while the user edits a cell, unless run with delayForCellEdit (then it waits)', async () => {
    const f = fake();
    f.setCellEditMode(true);
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets.getItem('报备').getRange('C1').values = [['x']];
          await context.sync();
        }),
      ),
    ).toBe('InvalidOperationInCellEditMode');
    let done = false;
    const delayed = f.Excel.run({ delayForCellEdit: true }, async (context) => {
      context.workbook.worksheets.getItem('报备').getRange('C1').values = [['y']];
      await context.sync();
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(done).toBe(false);
    f.setCellEditMode(false);
    await delayed;
    expect(f.workbook.values('报备', 'C1')).toEqual([['y']]);
  });

  it('keeps a threaded comment or a note per cell, never both, and lists comments by location', async () => {
    const f = createFakeOffice({ sheets: [{ name: 'S', values: [['a', 'b']], comments: ['A1'] }] });
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          const sheet = context.workbook.worksheets.getItem('S');
          sheet.notes!.add(sheet.getRange('A1'), 'x');
          await context.sync();
        }),
      ),
    ).toBe('InvalidOperation');
    const addresses = await f.Excel.run(async (context) => {
      const comments = context.workbook.comments!.load('items');
      await context.sync();
      const locations = comments.items.map((c) => c.getLocation().load('address'));
      await context.sync();
      return locations.map((l) => l.address);
    });
    expect(addresses).toEqual(['S!A1']);
  });

  it('gives error values and computed formula results in values, their kind in valueTypes', async () => {
    const f = createFakeOffice({
      sheets: [
        {
          name: 'S',
          values: [['#REF!', '#N/A', 'text', 3]],
          formulas: {
            E1: { formula: '=A2&B2', result: '甲公司' },
            F1: { formula: '=1/0', result: '#DIV/0!' },
          },
        },
      ],
    });
    const read = await f.Excel.run(async (context) => {
      const range = context.workbook.worksheets
        .getItem('S')
        .getRange('A1:G1')
        .load('values,valueTypes,formulas');
      await context.sync();
      return { values: range.values, types: range.valueTypes, formulas: range.formulas };
    });
    expect(read.values).toEqual([['#REF!', '#N/A', 'text', 3, '甲公司', '#DIV/0!', '']]);
    expect(read.types).toEqual([['Error', 'Error', 'String', 'Double', 'String', 'Error', 'Empty']]);
    expect(read.formulas[0]?.[4]).toBe('=A2&B2');
  });

  it('counts date serials from 1904-01-01 in a workbook using the 1904 date system', async () => {
    const f = createFakeOffice({ date1904: true, sheets: [{ name: 'S' }] });
    const uses1904 = await f.Excel.run(async (context) => {
      context.workbook.worksheets.getItem('S').getRange('A1:B1').values = [['2026-03-05', '1904-01-02']];
      const book = context.workbook.load('use1904DateSystem');
      await context.sync();
      return book.use1904DateSystem;
    });
    expect(uses1904).toBe(true);
    expect(f.workbook.values('S', 'A1:B1')).toEqual([[46086 - 1462, 1]]);
  });

  it('types text written to a General cell as Excel would (dates, grouped numbers, percentages, booleans), not under @', async () => {
    const f = createFakeOffice({ sheets: [{ name: 'S' }] });
    await f.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem('S');
      sheet.getRange('A1:E1').values = [['3/5', '1,234', '50%', 'TRUE', '2026年3月5日']];
      sheet.getRange('A2:E2').numberFormat = [['@', '@', '@', '@', '@']];
      sheet.getRange('A2:E2').values = [['3/5', '1,234', '50%', 'TRUE', '2026年3月5日']];
      await context.sync();
    });
    expect(f.workbook.values('S', 'A1:E1')).toEqual([[46086, 1234, 0.5, true, 46086]]);
    expect(f.workbook.values('S', 'A2:E2')).toEqual([['3/5', '1,234', '50%', 'TRUE', '2026年3月5日']]);
  });

  it(`refuses getRanges with more than ${RANGES_AREA_LIMIT} areas (InvalidArgument)`, async () => {
    const f = fake();
    const many = (n: number) => Array.from({ length: n }, (_, i) => `A${i * 2 + 1}`).join(',');
    await f.Excel.run(async (context) => {
      context.workbook.worksheets.getItem('报备').getRanges(many(RANGES_AREA_LIMIT)).format.fill.color =
        '#FFEEEE';
      await context.sync();
    });
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets
            .getItem('报备')
            .getRanges(many(RANGES_AREA_LIMIT + 1)).format.fill.color = '#FFEEEE';
          await context.sync();
        }),
      ),
    ).toBe('InvalidArgument');
  });

  it('can refuse an oversized request with GeneralException, as some hosts do', async () => {
    const f = fake('1.18', { oversizeError: 'GeneralException' });
    const big = Array.from({ length: 600 }, () => ['x'.repeat(10_000)]);
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets.getItem('报备').getRange('D1:D600').values = big;
          await context.sync();
        }),
      ),
    ).toBe('GeneralException');
  });

  it('does not roll back a failed batch: commands before the failing one stay applied', async () => {
    const f = fake();
    const code = await codeOf(
      f.Excel.run(async (context) => {
        const sheet = context.workbook.worksheets.getItem('报备');
        sheet.getRange('C1').values = [['applied']];
        sheet.getRange('C2').format.fill.color = 'not a colour';
        sheet.getRange('C3').values = [['never']];
        await context.sync();
      }),
    );
    expect(code).toBe('InvalidArgument');
    expect(f.workbook.values('报备', 'C1:C3')).toEqual([['applied'], [''], ['']]);
  });

  it('widens a table through columns.add (cells right of it move), and by AutoExpand when text is written beside its header', async () => {
    const f = createFakeOffice({
      sheets: [
        {
          name: 'S',
          values: [
            ['名称', '电话', '', '旁注'],
            ['甲', '1', '', 'x'],
          ],
        },
      ],
    });
    await f.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem('S');
      sheet.tables.add(sheet.getRange('A1:B2'), true);
      await context.sync();
      const table = sheet.getRange('A1').getTables(false).getFirst();
      table.columns.add(undefined, undefined, '状态');
      const range = table.getRange().load('address');
      await context.sync();
      expect(range.address).toBe('S!A1:C2');
    });
    expect(f.workbook.values('S', 'A1:E2')).toEqual([
      ['名称', '电话', '状态', '', '旁注'],
      ['甲', '1', '', '', 'x'],
    ]);
    await f.Excel.run(async (context) => {
      context.workbook.worksheets.getItem('S').getRange('D1').values = [['提示']];
      await context.sync();
    });
    expect(f.workbook.tables()[0]?.address).toBe('A1:D2');
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets.getItem('S').getRange('H9').getTables(false).getFirst().columns.add();
          await context.sync();
        }),
      ),
    ).toBe('ItemNotFound');
  });
});

describe('Range.select (ExcelApi 1.1)', () => {
  it('shows the range’s sheet and selects it, after the sync; a missing sheet is ItemNotFound', async () => {
    const f = fake();
    f.workbook.activate('待审核');
    await f.Excel.run(async (context) => {
      context.workbook.worksheets.getItem('报备').getRange('A2:B2').select();
      // Queued, not done: Excel applies it at the sync.
      expect(f.workbook.selection()).toBeNull();
      await context.sync();
    });
    expect(f.workbook.activeSheetName()).toBe('报备');
    expect(f.workbook.selection()).toEqual({ sheet: '报备', address: 'A2:B2' });
    const code = await codeOf(
      f.Excel.run(async (context) => {
        context.workbook.worksheets.getItem('没有').getRange('A1').select();
        await context.sync();
      }),
    );
    expect(code).toBe('ItemNotFound');
  });
});

describe('charts (ExcelApi 1.1)', () => {
  it('adds a chart from a range, named "Chart N", with title, name and position set in the same batch', async () => {
    const f = fake('1.1');
    await f.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem('报备');
      const chart = sheet.charts.add('ColumnClustered', sheet.getRange('A1:B3'), 'Columns');
      chart.name = '报表图';
      chart.title.text = '每月报备';
      chart.setPosition('D2', 'K18');
      // Nothing exists before the sync.
      expect(f.workbook.charts('报备')).toEqual([]);
      await context.sync();
    });
    expect(f.workbook.charts('报备')).toEqual([
      {
        name: '报表图',
        type: 'ColumnClustered',
        source: '报备!A1:B3',
        seriesBy: 'Columns',
        title: '每月报备',
        position: { start: 'D2', end: 'K18' },
      },
    ]);
  });

  it('refuses a chart type or seriesBy Excel does not know (InvalidArgument), and a title read before load', async () => {
    const f = fake('1.1');
    const add = (type: string, seriesBy = 'Auto') =>
      f.Excel.run(async (context) => {
        const sheet = context.workbook.worksheets.getItem('报备');
        sheet.charts.add(type, sheet.getRange('A1:B3'), seriesBy);
        await context.sync();
      });
    expect(await codeOf(add('Column'))).toBe('InvalidArgument');
    expect(await codeOf(add('Invalid'))).toBe('InvalidArgument');
    expect(await codeOf(add('ColumnClustered', 'ByColumns'))).toBe('InvalidArgument');
    expect(f.workbook.charts('报备')).toEqual([]);
    await f.Excel.run(async (context) => {
      const chart = context.workbook.worksheets
        .getItem('报备')
        .charts.add('Pie', context.workbook.worksheets.getItem('报备').getRange('A1:B3'));
      expect(() => chart.title.text).toThrow(/not available/);
      await context.sync();
    });
    expect(f.workbook.charts('报备').map((c) => [c.name, c.type, c.seriesBy])).toEqual([
      ['Chart 1', 'Pie', 'Auto'],
    ]);
  });

  it('clearing the cells leaves a chart; getItem of a missing name fails the sync; getItemOrNullObject needs 1.4', async () => {
    const f = fake('1.1');
    await f.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem('报备');
      sheet.charts.add('BarClustered', sheet.getRange('A1:B3')).name = '图';
      sheet.getRange('A1:B3').clear();
      await context.sync();
    });
    expect(f.workbook.charts('报备').map((c) => c.name)).toEqual(['图']);
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets.getItem('报备').charts.getItem('没有').delete();
          await context.sync();
        }),
      ),
    ).toBe('ItemNotFound');
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          context.workbook.worksheets.getItem('报备').charts.getItemOrNullObject('图');
          await context.sync();
        }),
      ),
    ).toBe('ApiNotFound');
  });

  it('deletes by name after loading the names (the ExcelApi 1.1 way); items before load throws', async () => {
    const f = fake('1.1');
    await f.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem('报备');
      sheet.charts.add('Line', sheet.getRange('A1:B3')).name = '图';
      sheet.charts.add('Line', sheet.getRange('A1:B3'));
      await context.sync();
    });
    await f.Excel.run(async (context) => {
      const charts = context.workbook.worksheets.getItem('报备').charts;
      expect(() => charts.items).toThrow(/not available/);
      charts.load('items/name');
      await context.sync();
      expect(charts.items.map((c) => c.name)).toEqual(['图', 'Chart 2']);
      for (const c of charts.items) if (c.name === '图') c.delete();
      await context.sync();
    });
    expect(f.workbook.charts('报备').map((c) => c.name)).toEqual(['Chart 2']);
  });
});

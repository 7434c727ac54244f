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
  type FakeOffice,
} from './fakeExcel.js';

function fake(apiVersion = '1.18'): FakeOffice {
  return createFakeOffice({
    apiVersion,
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
    const short = areas.slice(0, 500).join(',');
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
          sheet.notes.add(sheet.getRange('A2'), 'x');
          await context.sync();
        }),
      ),
    ).toBe('ApiNotFound');
    const current = fake('1.18');
    expect(current.Office.context.requirements.isSetSupported('ExcelApi', '1.18')).toBe(true);
    await current.Excel.run(async (context) => {
      const sheet = context.workbook.worksheets.getItem('报备');
      sheet.notes.add(sheet.getRange('A2'), '电话号码格式不正确');
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
          sheet.notes.add(sheet.getRange('A2'), 'x');
          await context.sync();
        }),
      ),
    ).toBe('InvalidArgument');
    expect(
      await codeOf(
        f.Excel.run(async (context) => {
          const sheet = context.workbook.worksheets.getItem('报备');
          sheet.notes.add(sheet.getRange('A2:A3'), 'x');
          await context.sync();
        }),
      ),
    ).toBe('InvalidArgument');
    await f.Excel.run(async (context) => {
      const notes = context.workbook.worksheets.getItem('报备').notes.load('items/content');
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
    expect(f.workbook.values('待审核', 'A1:C1')).toEqual([['名称', 'Column2', '名称2']]);
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
});

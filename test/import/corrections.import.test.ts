/**
 * History mode with a 报备编号 column (issue 15): a row repeating a registration number — an earlier
 * row's, or a registration already in the store — is a later correction of that registration,
 * applied as a change with history (R37), never registered anew; an identity correction is matched
 * again like any change (R3).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CUSTOMERS, STANDARD_HEADER, standardRow, xlsxOf, type SheetCell } from '../fixtures/legacySheets.js';
import { ADMIN, openTempStore, runImport, type TempStore } from './importHarness.js';

const HEADER = [...STANDARD_HEADER, '报备编号'];

function sheet(rows: SheetCell[][]): Promise<Uint8Array> {
  return xlsxOf([{ name: '历史台账', rows: [HEADER, ...rows] }]);
}

describe('[R37] history mode: later corrections of a registration number', () => {
  let temp: TempStore;
  beforeEach(async () => {
    temp = await openTempStore();
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('rows with — or 无 for 报备编号 (never numbered) are registrations of their own, not corrections of one another', async () => {
    const bytes = await sheet([
      [...standardRow(0, '王磊', '2026-10-01'), '—'],
      [...standardRow(1, '王磊', '2026-10-02'), '—'],
      [...standardRow(2, '王磊', '2026-10-03'), '无'],
      [...standardRow(3, '王磊', '2026-10-04'), '无'],
    ]);
    const { report } = await runImport(bytes, temp, { mode: 'history', actor: ADMIN, fileName: '台账.xlsx' });
    expect(report.rows.map((r) => [r.row, r.status, r.warnings.map((w) => w.code)])).toEqual([
      [2, 'protected', []],
      [3, 'protected', []],
      [4, 'protected', []],
      [5, 'protected', []],
    ]);
    const names = (await temp.records()).map((r) => r.registration.customerName).sort();
    expect(names).toEqual([0, 1, 2, 3].map((i) => CUSTOMERS[i]!.name).sort());
  });

  it('a repeated number is applied as a change of the registration its first row made, with history', async () => {
    const corrected = [...standardRow(0, '王磊', '2026-10-01')];
    corrected[3] = '13911112222'; // 联系电话 changed
    const bytes = await sheet([
      [...standardRow(0, '王磊', '2026-10-01'), 'L-001'],
      [...standardRow(1, '王磊', '2026-10-02'), 'L-002'],
      // The correction: a later line with the same number and 报备日期 (of the same registration).
      [...corrected, 'L-001'],
    ]);
    const { report } = await runImport(bytes, temp, { mode: 'history', actor: ADMIN, fileName: '台账.xlsx' });
    const [first, second, correction] = report.rows;
    expect([first!.status, second!.status]).toEqual(['protected', 'protected']);
    expect(correction).toMatchObject({ row: 4, status: 'protected', registrationNo: first!.registrationNo });
    expect(correction!.warnings.map((w) => w.code)).toEqual(['import.correction']);
    expect(correction!.warnings[0]!.message).toContain('contactPhone');

    const records = await temp.records();
    expect(records).toHaveLength(2);
    const record = records.find((r) => r.no === first!.registrationNo)!;
    expect(record.registration.contactPhone).toBe('13911112222');
    expect(record.claimedAt.startsWith('2026-09-30')).toBe(true); // 2026-10-01 in Shanghai
    expect(record.history.at(-1)).toMatchObject({
      by: ADMIN.name,
      action: 'change',
      reason: '导入更正：台账.xlsx 第 4 行',
      details: { field: 'contactPhone', from: CUSTOMERS[0].phone, to: '13911112222', identity: true },
    });
    // Re-indexed: found by the new phone, no longer by the old one.
    const byPhone = async (phone: string) => {
      const again = await sheet([
        [CUSTOMERS[5].name, '企业', CUSTOMERS[5].address, phone, '展会', '李娜', '2026-11-20', 'X-1'],
      ]);
      const { report: check } = await runImport(again, temp, { mode: 'history', actor: ADMIN, dryRun: true });
      return check.rows[0]!.conflicts.map((c) => c.registrationNo);
    };
    expect(await byPhone('13911112222')).toEqual([first!.registrationNo]);
    expect(await byPhone(CUSTOMERS[0].phone)).toEqual([]);
  });

  it('a number already in the store is corrected, not registered again', async () => {
    const { report: initial } = await runImport(
      await sheet([[...standardRow(2, '王磊', '2026-10-05'), '']]),
      temp,
      {
        mode: 'history',
        actor: ADMIN,
      },
    );
    const no = initial.rows[0]!.registrationNo!;
    const correction = [...standardRow(2, '王磊', '2026-10-05'), no];
    correction[2] = '广州市天河区体育东路33号'; // 地址
    const { report } = await runImport(await sheet([correction]), temp, { mode: 'history', actor: ADMIN });
    expect(report.rows[0]).toMatchObject({ status: 'protected', registrationNo: no });
    const records = await temp.records();
    expect(records).toHaveLength(1);
    expect(records[0]!.registration.address).toBe('广州市天河区体育东路33号');
    expect(records[0]!.version).toBe(2);
    // The same sheet again changes nothing more.
    const { report: same } = await runImport(await sheet([correction]), temp, {
      mode: 'history',
      actor: ADMIN,
    });
    expect(same.rows[0]!.warnings[0]!.message).toContain('无更改');
    expect((await temp.records())[0]!.version).toBe(2);
  });

  it('[R3] a correction onto another registrant’s customer is refused, naming the holder only', async () => {
    const onto = [...standardRow(3, '王磊', '2026-10-03'), 'L-010'];
    onto[0] = CUSTOMERS[4].name;
    onto[2] = CUSTOMERS[4].address;
    const bytes = await sheet([
      [...standardRow(3, '王磊', '2026-10-03'), 'L-010'],
      [...standardRow(4, '周杰', '2026-10-04'), 'L-011'],
      onto,
    ]);
    const { report } = await runImport(bytes, temp, { mode: 'history', actor: ADMIN });
    const refused = report.rows[2]!;
    expect(refused.status).toBe('invalid');
    expect(refused.errors.map((e) => e.code)).toEqual(['change.conflict']);
    expect(refused.conflicts).toEqual([
      expect.objectContaining({ row: 3, registrationNo: report.rows[1]!.registrationNo, strength: 'exact' }),
    ]);
    const record = (await temp.records()).find((r) => r.no === report.rows[0]!.registrationNo)!;
    expect(record.registration.customerName).toBe(CUSTOMERS[3].name);
    expect(record.version).toBe(1);
  });

  it('a correction of a number whose first row was invalid has nothing to correct', async () => {
    const invalid = [...standardRow(5, '王磊', '2026-10-06'), 'L-020'];
    invalid[3] = '12345'; // bad phone
    invalid[2] = ''; // and no address: the row is invalid
    const bytes = await sheet([invalid, [...standardRow(5, '王磊', '2026-10-06'), 'L-020']]);
    const { report } = await runImport(bytes, temp, { mode: 'history', actor: ADMIN });
    expect(report.rows.map((r) => r.status)).toEqual(['invalid', 'invalid']);
    expect(report.rows[1]!.errors.map((e) => e.code)).toEqual(['import.correction_target']);
    expect(await temp.records()).toEqual([]);
  });
});

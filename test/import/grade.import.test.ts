/**
 * The import and issue 13: a 客户等级 column (simplified, traditional or English header) is mapped to
 * the grade and normalised (R42), a bad grade is named on its row, and the cap on active
 * registrations (R45) refuses rows past it — counted once for the sheet — except in a history
 * migration, which is exempt and says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../core/policy.js';
import { STANDARD_HEADER, csvOf, standardRow, xlsxOf } from '../fixtures/legacySheets.js';
import { ADMIN, SALES, openTempStore, runImport, type TempStore } from './importHarness.js';

let temp: TempStore;
beforeEach(async () => {
  temp = await openTempStore();
});
afterEach(async () => {
  await temp.dispose();
});

function rows(header: string, grades: string[]): string[][] {
  return [
    [...STANDARD_HEADER, header],
    ...grades.map((g, i) => [...(standardRow(i, '王磊') as string[]), g]),
  ];
}

describe('grade column (R42)', () => {
  for (const header of ['客户等级', '客戶等級', '等级', 'Grade']) {
    it(`[R42] "${header}" maps to grade; A / b类 / C级 are read, "重要" is grade.invalid on its row`, async () => {
      const { report } = await runImport(
        Buffer.from(csvOf(rows(header, ['A', 'b类', 'C级', '重要']))),
        temp,
        {
          actor: SALES,
        },
      );
      expect(report.mapping.find((m) => m.header === header)?.field).toBe('grade');
      expect(report.rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending', 'invalid']);
      expect(report.rows[3]!.errors).toEqual([
        expect.objectContaining({ code: 'grade.invalid', field: 'grade' }),
      ]);
      const grades = (await temp.records()).map((r) => [r.registration.customerName, r.registration.grade]);
      expect(grades.map(([, g]) => g).sort()).toEqual(['A', 'B', 'C']);
    });
  }

  it('[R42] an .xlsx with the column works the same', async () => {
    const bytes = await xlsxOf([{ name: '客户报备', rows: rows('客户等级', ['B', 'A']) }]);
    const { report } = await runImport(bytes, temp, { actor: SALES });
    expect(report.rows.map((r) => r.status)).toEqual(['pending', 'pending']);
    expect((await temp.records()).map((r) => r.registration.grade).sort()).toEqual(['A', 'B']);
  });
});

describe('cap (R45) in an import', () => {
  it('[R45] rows past maxActivePerRegistrant are rejected with registration.cap, counted across the sheet', async () => {
    await temp.store.write((tx) => tx.putPolicy(resolvePolicy({ maxActivePerRegistrant: 2 })));
    const { report } = await runImport(Buffer.from(csvOf(rows('客户等级', ['A', 'B', 'C', 'A']))), temp, {
      actor: SALES,
    });
    expect(report.rows.map((r) => r.status)).toEqual(['pending', 'pending', 'rejected', 'rejected']);
    expect(report.rows[2]!.errors).toEqual([
      expect.objectContaining({ code: 'registration.cap', details: { cap: 2, count: 2 } }),
    ]);
    expect(await temp.records()).toHaveLength(2);
  });

  it('[R45] a history migration by an administrator is exempt and each row past the cap says so', async () => {
    await temp.store.write((tx) => tx.putPolicy(resolvePolicy({ maxActivePerRegistrant: 1 })));
    const { report } = await runImport(Buffer.from(csvOf(rows('客户等级', ['A', 'B', 'C']))), temp, {
      actor: ADMIN,
      mode: 'history',
    });
    expect(report.rows.map((r) => r.registrationNo !== undefined)).toEqual([true, true, true]);
    expect(report.rows.map((r) => r.warnings.some((w) => w.code === 'registration.cap_exempt'))).toEqual([
      false,
      true,
      true,
    ]);
  });
});

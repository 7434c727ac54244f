/**
 * The shared legacy samples through the whole import (read, header, rows, checks against a real
 * store and within the file) reproduce truth.json: header row, mapping, invalid rows with the right
 * fields, and the same-customer groups — in a dry run and in a real submit.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport, ReportRow } from '../../server/import/importSheet.js';
import {
  loadSampleTruths,
  SAMPLES_DIR,
  type SampleTruth,
  type SampleTruthRow,
} from '../fixtures/sampleRows.js';
import { ADMIN, openTempStore, runImport, type TempStore } from './importHarness.js';

const truths = loadSampleTruths();

/** Rows of one customer (a truth entity) that the import evaluated, i.e. that are not invalid. */
function entityGroups(truth: SampleTruth): Map<string, SampleTruthRow[]> {
  const groups = new Map<string, SampleTruthRow[]>();
  for (const row of truth.rows) {
    if (row.invalidFields.length > 0) continue;
    groups.set(row.entity, [...(groups.get(row.entity) ?? []), row]);
  }
  return groups;
}

describe.each(truths.map((t) => ({ file: t.file, truth: t })))('$file', ({ truth }) => {
  describe.each([true, false])('dryRun %s', (dryRun) => {
    let temp: TempStore;
    let report: ImportReport;
    const byRow = new Map<number, ReportRow>();
    const truthByRow = new Map(truth.rows.map((r) => [r.row, r]));

    beforeAll(async () => {
      temp = await openTempStore();
      const bytes = await readFile(SAMPLES_DIR + truth.file);
      ({ report } = await runImport(bytes, temp, {
        fileName: truth.file,
        mode: 'submit',
        dryRun,
        actor: ADMIN,
      }));
      for (const r of report.rows) byRow.set(r.row, r);
    });
    afterAll(async () => {
      await temp.dispose();
    });

    it('finds the header row', () => {
      expect(report.headerRow).toBe(truth.headerRow);
    });

    it('maps every truth column to its field, by the header as written, and nothing else', () => {
      for (const [header, field] of Object.entries(truth.mapping)) {
        expect(
          report.mapping.some((m) => m.header === header && m.field === field),
          `${header} → ${field} in ${JSON.stringify(report.mapping)}`,
        ).toBe(true);
      }
      const mapped = report.mapping.filter((m) => m.field !== null);
      expect(mapped).toHaveLength(Object.keys(truth.mapping).length);
      for (const m of mapped) expect(truth.mapping[m.header]).toBe(m.field);
    });

    it('reports exactly the data rows truth lists, by 1-based sheet row (blank rows absent)', () => {
      const dataRows = report.rows.filter((r) => r.status !== 'skipped').map((r) => r.row);
      expect(dataRows).toEqual(truth.rows.map((r) => r.row).sort((a, b) => a - b));
      expect(report.summary.rows).toBe(truth.rows.length);
      // Every row the report names lies below the header.
      for (const r of report.rows) expect(r.row).toBeGreaterThan(truth.headerRow);
    });

    it('[R2] marks invalid exactly the rows truth marks, with errors on exactly those fields', () => {
      for (const t of truth.rows) {
        const r = byRow.get(t.row);
        expect(r, `row ${t.row}`).toBeDefined();
        if (t.invalidFields.length > 0) {
          expect(r!.status, `row ${t.row}`).toBe('invalid');
          const fields = new Set(r!.errors.map((e) => e.field));
          expect([...fields].sort(), `row ${t.row}: ${JSON.stringify(r!.errors)}`).toEqual(
            [...t.invalidFields].sort(),
          );
        } else {
          expect(r!.status, `row ${t.row}: ${JSON.stringify(r!.errors)}`).not.toBe('invalid');
        }
      }
    });

    it('[R17] links the rows of one customer by exact conflicts; the earliest registration is the one not linked', () => {
      for (const [entity, members] of entityGroups(truth)) {
        if (members.length < 2) continue;
        const rows = new Set(members.map((m) => m.row));
        const linked = members.filter((m) =>
          byRow
            .get(m.row)!
            .conflicts.some((c) => c.strength === 'exact' && c.row !== undefined && rows.has(c.row)),
        );
        // Each member after the first in evaluation order points at another member.
        expect(linked, `${entity}: ${JSON.stringify(members.map((m) => byRow.get(m.row)))}`).toHaveLength(
          members.length - 1,
        );
        const first = members.find((m) => !linked.includes(m))!;
        const earliest = Math.min(...members.map((m) => Date.parse(m.registeredDay)));
        expect(Date.parse(first.registeredDay), `${entity}: row ${first.row} holds`).toBe(earliest);
      }
    });

    it('never links rows of different customers by an exact conflict, and finds nothing outside the file', () => {
      for (const r of report.rows) {
        for (const c of r.conflicts) {
          // A fresh store: every conflict is with another row of the same sheet.
          expect(c.row, `row ${r.row}: ${JSON.stringify(c)}`).toBeDefined();
          if (c.strength !== 'exact') continue;
          expect(truthByRow.get(c.row!)?.entity, `row ${r.row} → row ${c.row}`).toBe(
            truthByRow.get(r.row)?.entity,
          );
        }
      }
    });

    it('[R17] a customer registered twice by the same registrant: the later registration is `duplicate`', () => {
      const duplicates = new Set<number>();
      for (const t of truth.rows.filter((r) => r.dupKind === 'same-registrant')) {
        const same = truth.rows
          .filter(
            (r) => r.entity === t.entity && r.registrant === t.registrant && r.invalidFields.length === 0,
          )
          .sort((a, b) => Date.parse(a.registeredDay) - Date.parse(b.registeredDay) || a.row - b.row);
        expect(same.length).toBeGreaterThan(1);
        const [kept, ...later] = same;
        expect(byRow.get(kept!.row)!.status, `row ${kept!.row} keeps the claim`).not.toBe('duplicate');
        for (const d of later) {
          const r = byRow.get(d.row)!;
          expect(r.status, `row ${d.row}`).toBe('duplicate');
          expect(r.conflicts.some((c) => c.strength === 'exact' && c.row === kept!.row)).toBe(true);
          duplicates.add(d.row);
        }
      }
      // And no other row is a duplicate.
      const reported = report.rows.filter((r) => r.status === 'duplicate').map((r) => r.row);
      expect(reported.sort((a, b) => a - b)).toEqual([...duplicates].sort((a, b) => a - b));
    });

    it(
      dryRun ? 'gives new rows no registration number' : 'gives every saved row a registration number',
      () => {
        for (const r of report.rows) {
          if (r.status === 'invalid' || r.status === 'skipped') {
            expect(r.registrationNo).toBeUndefined();
          } else if (dryRun) {
            expect(r.registrationNo, `row ${r.row}`).toBeUndefined();
          } else {
            expect(r.registrationNo, `row ${r.row}`).toMatch(/^BB-2026-\d{6}$/);
          }
        }
      },
    );
  });
});

/**
 * Row parsing against every legacy sample sheet in shared/samples: rows truth.json lists with
 * invalidFields fail on exactly those fields, every other row parses without errors, and the
 * parsed values agree with what truth.json records (registrant, registration day, customer key).
 */
import { describe, expect, it } from 'vitest';
import { companyKey } from '../../core/companyName.js';
import { dayOf } from '../../core/day.js';
import { DEFAULT_POLICY } from '../../core/policy.js';
import { parseRow } from '../../core/row.js';
import { loadSampleTruths, readSampleRows, type SampleRow } from '../fixtures/sampleRows.js';

const truths = loadSampleTruths();
const ctx = { referenceDate: '2026-11-23', policy: DEFAULT_POLICY };

describe('parseRow on the legacy samples', () => {
  it('has samples with invalid rows to check', () => {
    expect(truths.length).toBe(4);
    expect(truths.some((t) => t.rows.some((r) => r.invalidFields.length > 0))).toBe(true);
  });

  describe.each(truths)('$file', (truth) => {
    let rows: SampleRow[] = [];
    const load = async () => {
      if (rows.length === 0) rows = await readSampleRows(truth);
      expect(rows.length).toBeGreaterThan(0);
      return rows;
    };

    it('[R2][R5] fails exactly on the fields truth.json lists, and nowhere else', async () => {
      for (const { row, raw, truth: expected } of await load()) {
        const result = parseRow(raw, ctx);
        const failed = [...new Set(result.errors.map((p) => p.field))].sort();
        expect({ row, failed }).toEqual({ row, failed: [...expected.invalidFields].sort() });
        expect({ row, parsed: result.registration !== null }).toEqual({
          row,
          parsed: expected.invalidFields.length === 0,
        });
      }
    });

    it('reads the registrant and the registration day truth.json records', async () => {
      for (const { row, raw, truth: expected } of await load()) {
        const registration = parseRow(raw, ctx).registration;
        if (registration === null) continue;
        expect({ row, registrant: registration.registrant }).toEqual({
          row,
          registrant: expected.registrant,
        });
        const registeredAt = registration.registeredAt;
        expect({ row, day: registeredAt === undefined ? null : dayOf(registeredAt) }).toEqual({
          row,
          day: expected.registeredDay,
        });
      }
    });

    it('gives the name variants of one customer one key, and different customers different keys', async () => {
      const keysByEntity = new Map<string, Set<string>>();
      const namesByEntity = new Map<string, Set<string>>();
      for (const { raw, truth: expected } of await load()) {
        if (typeof raw.customerName !== 'string' || raw.customerName.trim() === '') continue;
        const keys = keysByEntity.get(expected.entity) ?? new Set<string>();
        keys.add(companyKey(raw.customerName));
        keysByEntity.set(expected.entity, keys);
        namesByEntity.set(
          expected.entity,
          (namesByEntity.get(expected.entity) ?? new Set()).add(raw.customerName),
        );
      }
      // Every sample spells some customer two ways, so the first expectation below is exercised.
      expect([...namesByEntity.values()].some((names) => names.size > 1)).toBe(true);
      const entityOfKey = new Map<string, string>();
      for (const [entity, keys] of keysByEntity) {
        expect({ entity, keys: keys.size }).toEqual({ entity, keys: 1 });
        const key = [...keys][0] as string;
        expect({ key, entity: entityOfKey.get(key) ?? entity }).toEqual({ key, entity });
        entityOfKey.set(key, entity);
      }
    });
  });
});

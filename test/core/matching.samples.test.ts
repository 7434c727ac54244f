import { beforeAll, describe, expect, it } from 'vitest';
import { compareIdentities, identityKeys, MatchIndex } from '../../core/matching.js';
import { presetPolicy, type Policy } from '../../core/policy.js';
import { parseRow } from '../../core/row.js';
import type { IdentityKeys } from '../../core/schema.js';
import { loadSampleTruths, readSampleRows } from '../fixtures/sampleRows.js';

/** Later than every registration date in the samples, so none is refused as lying in the future. */
const REFERENCE_DATE = '2026-12-31';

interface SampleIdentity {
  /** `file#row`, for messages. */
  id: string;
  entity: string;
  keys: IdentityKeys;
}

async function sampleIdentities(policy: Policy): Promise<SampleIdentity[]> {
  const out: SampleIdentity[] = [];
  for (const truth of loadSampleTruths()) {
    for (const { row, raw, truth: rowTruth } of await readSampleRows(truth)) {
      const parsed = parseRow(raw, { referenceDate: REFERENCE_DATE, policy });
      if (parsed.registration === null) {
        // Only rows truth.json marks invalid may fail to parse; they carry no identity to match.
        expect(
          rowTruth.invalidFields.length,
          `${truth.file}#${row}: ${JSON.stringify(parsed.errors)}`,
        ).toBeGreaterThan(0);
        continue;
      }
      out.push({
        id: `${truth.file}#${row}`,
        entity: rowTruth.entity,
        keys: identityKeys(parsed.registration),
      });
    }
  }
  return out;
}

// The standard policy, and the channel preset (R8 masked phones, R19 households joined).
describe.each([presetPolicy('standard'), presetPolicy('channel')])(
  'sample sheets under the $preset policy',
  (policy) => {
    let rows: SampleIdentity[] = [];
    beforeAll(async () => {
      rows = await sampleIdentities(policy);
    });

    it('reads the valid rows of every sample sheet', () => {
      const groups = new Set(rows.map((r) => r.entity));
      expect(rows.length).toBeGreaterThan(150);
      expect(groups.size).toBeLessThan(rows.length);
    });

    it('[R15] rows of one customer (one truth.json entity) all match one another exactly', () => {
      const misses: string[] = [];
      for (const a of rows) {
        for (const b of rows) {
          if (a === b || a.entity !== b.entity) continue;
          const match = compareIdentities(a.keys, b.keys, policy);
          if (match?.strength !== 'exact')
            misses.push(`${a.id} ~ ${b.id} (${a.entity}): ${JSON.stringify(match)}`);
        }
      }
      expect(misses).toEqual([]);
    });

    it('no two rows of different customers match exactly', () => {
      const clashes: string[] = [];
      for (const a of rows) {
        for (const b of rows) {
          if (a.entity === b.entity) continue;
          const match = compareIdentities(a.keys, b.keys, policy);
          if (match?.strength === 'exact')
            clashes.push(`${a.id} (${a.entity}) ~ ${b.id} (${b.entity}): ${match.matchedOn}`);
        }
      }
      expect(clashes).toEqual([]);
    });

    it('a MatchIndex over all sample rows finds exactly the other rows of the same customer as exact matches', () => {
      const index = new MatchIndex(policy);
      for (const row of rows) index.add(row.id, row.keys);
      for (const row of rows) {
        const exact = index
          .lookup(row.keys)
          .filter((hit) => hit.match.strength === 'exact' && hit.id !== row.id)
          .map((hit) => hit.id)
          .sort();
        const expected = rows
          .filter((other) => other.entity === row.entity && other !== row)
          .map((other) => other.id)
          .sort();
        expect(exact, row.id).toEqual(expected);
      }
    });
  },
);

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoInstant } from '../../server/services/rowEvaluation.js';

const SEED = 20261208;

describe('isoInstant', () => {
  it('follows a Date changed in place and refuses an invalid one as toISOString does', () => {
    const now = new Date('2026-11-23T02:00:00.000Z');
    expect(isoInstant(now)).toBe('2026-11-23T02:00:00.000Z');
    now.setTime(now.getTime() + 1);
    expect(isoInstant(now)).toBe('2026-11-23T02:00:00.001Z');
    expect(() => isoInstant(new Date(Number.NaN))).toThrow(RangeError);
    expect(isoInstant(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
  });

  it('equals toISOString over runs of repeated and changing instants (property)', () => {
    const instant = fc.integer({ min: -8.64e15, max: 8.64e15 });
    const runs = fc.array(fc.tuple(instant, fc.integer({ min: 1, max: 4 })), { maxLength: 20 });
    fc.assert(
      fc.property(runs, (seq) => {
        for (const [time, times] of seq) {
          for (let i = 0; i < times; i++) {
            const date = new Date(time);
            expect(isoInstant(date)).toBe(date.toISOString());
          }
        }
      }),
      { seed: SEED, numRuns: 5_000 },
    );
  });
});

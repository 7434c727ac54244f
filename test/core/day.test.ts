/** Shanghai calendar days: the fast path of dayOf agrees with full date arithmetic everywhere. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMonths, dayOf, makeDay, startOfDay } from '../../core/day.js';

describe('day', () => {
  it('dayOf an ISO instant is the Shanghai (UTC+8) calendar day, for strings and Dates alike', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        (d) => {
          const expected = new Date(d.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10);
          expect(dayOf(d.toISOString())).toBe(expected);
          expect(dayOf(d)).toBe(expected);
        },
      ),
      { seed: 20261123, numRuns: 5000 },
    );
    expect(dayOf('2026-12-31T15:59:59.999Z')).toBe('2026-12-31');
    expect(dayOf('2026-12-31T16:00:00.000Z')).toBe('2027-01-01');
    expect(dayOf('2026-03-05T10:00:00+08:00')).toBe('2026-03-05');
  });

  it('startOfDay is midnight in Shanghai and round-trips through dayOf', () => {
    expect(startOfDay('2026-03-05')).toBe('2026-03-04T16:00:00.000Z');
    expect(dayOf(startOfDay('2026-03-05'))).toBe('2026-03-05');
  });

  it('[R25] months clamp to the month end; impossible days do not exist', () => {
    expect(addMonths('2026-11-30', 3)).toBe('2027-02-28');
    expect(addMonths('2024-02-29', 12)).toBe('2025-02-28');
    expect(makeDay(2026, 13, 45)).toBeNull();
    expect(makeDay(2026, 2, 29)).toBeNull();
  });
});

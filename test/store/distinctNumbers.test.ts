import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { distinctNumbers } from '../../server/store/distinctNumbers.js';

const SEED = 20261208;

describe('distinctNumbers', () => {
  it('keeps each number where it first occurs', () => {
    expect(distinctNumbers([])).toEqual([]);
    expect(distinctNumbers(['a', 'b', 'a', 'c', 'b'])).toEqual(['a', 'b', 'c']);
    const long = Array.from({ length: 40 }, (_, i) => `BB-2026-${String(i % 7).padStart(6, '0')}`);
    expect(distinctNumbers(long)).toEqual(
      Array.from({ length: 7 }, (_, i) => `BB-2026-${String(i).padStart(6, '0')}`),
    );
  });

  // The embedded store's look-up collected the numbers into a Set and iterated it: the records it
  // opens, and so the candidates' order among equal claims, follow that order.
  it('gives what a Set of the numbers iterates, short lists and long (property)', () => {
    const no = fc.integer({ min: 0, max: 12 }).map((n) => `BB-2026-${String(n).padStart(6, '0')}`);
    fc.assert(
      fc.property(fc.array(no, { maxLength: 48 }), (numbers) => {
        expect(distinctNumbers([...numbers])).toEqual([...new Set(numbers)]);
      }),
      { seed: SEED, numRuns: 20_000 },
    );
  });
});

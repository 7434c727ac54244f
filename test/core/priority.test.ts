import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shanghaiInstant } from '../../core/day.js';
import { DEFAULT_POLICY, presetPolicy, resolvePolicy } from '../../core/policy.js';
import { rankCompetitors, type Candidate, type RankedCandidate } from '../../core/priority.js';

/** A candidate claiming at Shanghai 2026-03-dd hh:mm. */
function candidate(
  id: string,
  dayOfMonth: number,
  hour: number,
  minute: number,
  extra: Partial<Candidate> = {},
): Candidate {
  return {
    id,
    registrant: `registrant ${id}`,
    claimedAt: shanghaiInstant(2026, 3, dayOfMonth, hour, minute),
    claimHasTime: true,
    followUpCount: 0,
    ...extra,
  };
}

/** A candidate known only by the date 2026-03-dd. */
function dateOnly(id: string, dayOfMonth: number, extra: Partial<Candidate> = {}): Candidate {
  return { ...candidate(id, dayOfMonth, 0, 0, extra), claimHasTime: false };
}

function byId(ranking: RankedCandidate[], id: string): RankedCandidate {
  const found = ranking.find((r) => r.id === id);
  if (found === undefined) throw new Error(`no ${id} in ranking`);
  return found;
}

function codes(ranked: RankedCandidate): string[] {
  return ranked.reasons.map((r) => r.code);
}

const split = resolvePolicy({ sameDayTie: 'split' });
const review = resolvePolicy({ sameDayTie: 'review' });
const first = resolvePolicy({ sameDayTie: 'first' });

describe('[R17] first come, first served', () => {
  it('[R17] the earlier claim wins, whatever the input order', () => {
    const ranking = rankCompetitors(
      [candidate('b', 1, 10, 0, { expectedAmount: 900_000 }), candidate('a', 1, 9, 0)],
      DEFAULT_POLICY,
    );
    expect(ranking.map((r) => [r.id, r.rank])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(byId(ranking, 'a').reasons[0]?.message).toBe(
      '[R17] 报备时间 2026-03-01 09:00，早于 2026-03-01 10:00',
    );
    expect(byId(ranking, 'a').reasons[0]?.messageEn).toBe(
      '[R17] registered 2026-03-01 09:00, before 2026-03-01 10:00',
    );
    expect(byId(ranking, 'b').reasons[0]?.messageEn).toBe(
      '[R17] registered 2026-03-01 10:00, after 2026-03-01 09:00',
    );
    expect(ranking.every((r) => !r.needsReview)).toBe(true);
  });

  it('[R17] two claims in the same minute: the reason shows the seconds that decided', () => {
    const early = candidate('a', 1, 9, 0, { claimedAt: shanghaiInstant(2026, 3, 1, 9, 0, 10) });
    const late = candidate('b', 1, 9, 0, { claimedAt: shanghaiInstant(2026, 3, 1, 9, 0, 40) });
    const ranking = rankCompetitors([late, early], DEFAULT_POLICY);
    expect(ranking.map((r) => r.id)).toEqual(['a', 'b']);
    expect(byId(ranking, 'a').reasons[0]?.message).toBe(
      '[R17] 报备时间 2026-03-01 09:00:10，早于 2026-03-01 09:00:40',
    );
    expect(byId(ranking, 'b').reasons[0]?.messageEn).toBe(
      '[R17] registered 2026-03-01 09:00:40, after 2026-03-01 09:00:10',
    );
    // Within one second, the milliseconds.
    const sameSecond = candidate('c', 1, 9, 0, {
      claimedAt: new Date(Date.parse(early.claimedAt) + 250).toISOString(),
    });
    expect(byId(rankCompetitors([sameSecond, early], DEFAULT_POLICY), 'c').reasons[0]?.messageEn).toBe(
      '[R17] registered 2026-03-01 09:00:10.250, after 2026-03-01 09:00:10.000',
    );
  });

  it('[R17] a date-only claim on an earlier day beats a timed claim on a later day', () => {
    const ranking = rankCompetitors([candidate('timed', 2, 8, 0), dateOnly('dated', 1)], DEFAULT_POLICY);
    expect(ranking.map((r) => r.id)).toEqual(['dated', 'timed']);
    expect(byId(ranking, 'timed').reasons[0]?.messageEn).toBe(
      '[R17] registered 2026-03-02 08:00, after 2026-03-01',
    );
  });

  it('[R17] a single registration ranks first with nothing to compare', () => {
    const ranking = rankCompetitors([candidate('a', 1, 9, 0)], DEFAULT_POLICY);
    expect(ranking).toEqual([
      {
        id: 'a',
        rank: 1,
        reasons: [{ code: 'priority.only', message: '唯一的报备', messageEn: 'the only registration' }],
        needsReview: false,
      },
    ]);
  });

  it('[R17] returns nothing for no candidates', () => {
    expect(rankCompetitors([], DEFAULT_POLICY)).toEqual([]);
  });
});

describe('[R15] tie-breaks on the same registration time', () => {
  it('[R15] same instant → higher expected amount wins', () => {
    const ranking = rankCompetitors(
      [
        candidate('a', 1, 9, 0, { expectedAmount: 300_000 }),
        candidate('b', 1, 9, 0, { expectedAmount: 500_000 }),
      ],
      DEFAULT_POLICY,
    );
    expect(ranking.map((r) => r.id)).toEqual(['b', 'a']);
    expect(codes(byId(ranking, 'b'))).toEqual(['priority.expectedAmount']);
    expect(byId(ranking, 'b').reasons[0]?.messageEn).toBe(
      '[R15] same registration time; higher expected amount ¥500,000 vs ¥300,000',
    );
    expect(byId(ranking, 'a').reasons[0]?.message).toBe(
      '[R15] 报备时间相同，预计签约金额较低：¥300,000，对方 ¥500,000',
    );
  });

  it('[R15] a stated amount beats an unstated one', () => {
    const ranking = rankCompetitors(
      [candidate('a', 1, 9, 0), candidate('b', 1, 9, 0, { expectedAmount: 1 })],
      DEFAULT_POLICY,
    );
    expect(ranking.map((r) => r.id)).toEqual(['b', 'a']);
    expect(byId(ranking, 'a').reasons[0]?.messageEn).toContain('not stated vs ¥1');
  });

  it('[R15] same amount → higher expected unit price wins', () => {
    const ranking = rankCompetitors(
      [
        candidate('a', 1, 9, 0, { expectedAmount: 500_000, expectedUnitPrice: 8_000 }),
        candidate('b', 1, 9, 0, { expectedAmount: 500_000, expectedUnitPrice: 9_500 }),
      ],
      DEFAULT_POLICY,
    );
    expect(ranking.map((r) => r.id)).toEqual(['b', 'a']);
    expect(codes(byId(ranking, 'a'))).toEqual(['priority.expectedUnitPrice']);
  });

  it('[R15] same amount and unit price → earlier expected signing date wins', () => {
    const ranking = rankCompetitors(
      [
        candidate('a', 1, 9, 0, { expectedSignDate: '2026-06-01' }),
        candidate('b', 1, 9, 0, { expectedSignDate: '2026-05-01' }),
        candidate('c', 1, 9, 0),
      ],
      DEFAULT_POLICY,
    );
    expect(ranking.map((r) => r.id)).toEqual(['b', 'a', 'c']);
    expect(byId(ranking, 'b').reasons[0]?.messageEn).toBe(
      '[R15] same registration time, same amount and unit price; earlier expected signing date 2026-05-01 vs 2026-06-01',
    );
    expect(codes(byId(ranking, 'c'))).toEqual(['priority.expectedSignDate']);
  });

  it('[R15] everything else equal → more follow-up records win', () => {
    const ranking = rankCompetitors(
      [candidate('a', 1, 9, 0, { followUpCount: 2 }), candidate('b', 1, 9, 0, { followUpCount: 5 })],
      DEFAULT_POLICY,
    );
    expect(ranking.map((r) => [r.id, r.rank])).toEqual([
      ['b', 1],
      ['a', 2],
    ]);
    expect(byId(ranking, 'a').reasons[0]?.messageEn).toContain('fewer follow-up records 2 vs 5');
  });

  it('[R15] a date-only claim ties on time with every claim of that day, so the amount decides', () => {
    const ranking = rankCompetitors(
      [candidate('early', 1, 8, 0, { expectedAmount: 100 }), dateOnly('dated', 1, { expectedAmount: 200 })],
      DEFAULT_POLICY,
    );
    expect(ranking.map((r) => r.id)).toEqual(['dated', 'early']);
    expect(byId(ranking, 'dated').reasons[0]?.messageEn).toBe(
      '[R15] same registration day (time not known); higher expected amount ¥200 vs ¥100',
    );
  });

  it('[R15] tied on every criterion → id order, both flagged for review', () => {
    const ranking = rankCompetitors(
      [candidate('z', 1, 9, 0), candidate('m', 1, 9, 0), candidate('a', 1, 8, 0)],
      DEFAULT_POLICY,
    );
    expect(ranking.map((r) => [r.id, r.rank, r.needsReview])).toEqual([
      ['a', 1, false],
      ['m', 2, true],
      ['z', 3, true],
    ]);
    expect(codes(byId(ranking, 'z'))).toEqual(['priority.fullTie']);
  });
});

describe('[R20] same-day household registrations by different channels', () => {
  // channel X registered the customer in the morning, channel Y the customer's spouse in the afternoon
  const customer = candidate('x', 1, 9, 0, { channel: 'X' });
  const spouse = candidate('y', 1, 15, 0, { channel: 'Y', household: true });

  it('[R20] split → both rank 1 with 50% each', () => {
    const ranking = rankCompetitors([spouse, customer], split);
    expect(ranking.map((r) => [r.id, r.rank, r.share, r.needsReview])).toEqual([
      ['x', 1, 50, false],
      ['y', 1, 50, false],
    ]);
    expect(codes(byId(ranking, 'y'))).toEqual(['priority.sameDaySplit']);
    expect(byId(ranking, 'y').reasons[0]?.message).toContain('50%');
  });

  it('[R20] split among three channels gives shares that add up to 100', () => {
    const third = candidate('z', 1, 18, 0, { channel: 'Z', household: true });
    const ranking = rankCompetitors([third, spouse, customer], split);
    expect(ranking.map((r) => [r.id, r.rank, r.share])).toEqual([
      ['x', 1, 33.34],
      ['y', 1, 33.33],
      ['z', 1, 33.33],
    ]);
  });

  it('[R20] first → the earliest time wins, citing R20', () => {
    const ranking = rankCompetitors([spouse, customer], first);
    expect(ranking.map((r) => [r.id, r.rank, r.share])).toEqual([
      ['x', 1, undefined],
      ['y', 2, undefined],
    ]);
    expect(codes(byId(ranking, 'y'))).toEqual(['priority.sameDayFirst']);
  });

  it('[R20] review → tied at rank 1 and flagged', () => {
    const ranking = rankCompetitors([spouse, customer], review);
    expect(ranking.map((r) => [r.id, r.rank, r.needsReview])).toEqual([
      ['x', 1, true],
      ['y', 1, true],
    ]);
    expect(codes(byId(ranking, 'x'))).toEqual(['priority.sameDayReview']);
  });

  it('[R20] on different days the first wins, even under split', () => {
    const nextDay = candidate('y', 2, 8, 0, { channel: 'Y', household: true });
    const ranking = rankCompetitors([nextDay, customer], split);
    expect(ranking.map((r) => [r.id, r.rank, r.share])).toEqual([
      ['x', 1, undefined],
      ['y', 2, undefined],
    ]);
  });

  it('[R20] the same channel twice, or two channels bringing the same person, is not split', () => {
    const sameChannel = candidate('y', 1, 15, 0, { channel: 'X', household: true });
    expect(rankCompetitors([sameChannel, customer], split).map((r) => r.rank)).toEqual([1, 2]);
    const samePerson = candidate('y', 1, 15, 0, { channel: 'Y' });
    expect(rankCompetitors([samePerson, customer], split).map((r) => r.rank)).toEqual([1, 2]);
  });

  it('[R20] an earlier-day registration wins outright and the split pair ranks together behind it', () => {
    const earlier = candidate('w', 1, 8, 0, { channel: 'W' });
    const lateDayX = candidate('x', 2, 9, 0, { channel: 'X' });
    const lateDayY = candidate('y', 2, 15, 0, { channel: 'Y', household: true });
    const ranking = rankCompetitors([lateDayY, lateDayX, earlier], split);
    expect(ranking.map((r) => [r.id, r.rank, r.share])).toEqual([
      ['w', 1, undefined],
      ['x', 2, 50],
      ['y', 2, 50],
    ]);
    expect(codes(byId(ranking, 'y'))).toEqual(['priority.sameDaySplit', 'priority.registrationTime']);
  });

  it('[R20] the channel preset splits', () => {
    const ranking = rankCompetitors([spouse, customer], presetPolicy('channel'));
    expect(ranking.map((r) => r.share)).toEqual([50, 50]);
  });
});

describe('[R8] registered too close to the first visit', () => {
  const thirtyMinutes = resolvePolicy({ minLeadMinutesBeforeVisit: 30 });
  // a registered first, but only 20 minutes before the visit; b later, well ahead of its visit
  const late = candidate('a', 1, 9, 0, { firstVisitAt: shanghaiInstant(2026, 3, 1, 9, 20) });
  const compliant = candidate('b', 1, 10, 0, { firstVisitAt: shanghaiInstant(2026, 3, 2, 10, 0) });

  it('[R8] a registration less than 30 minutes before the visit ranks after compliant ones', () => {
    const ranking = rankCompetitors([late, compliant], thirtyMinutes);
    expect(ranking.map((r) => [r.id, r.rank])).toEqual([
      ['b', 1],
      ['a', 2],
    ]);
    expect(codes(byId(ranking, 'a'))).toEqual(['priority.lateBeforeVisit']);
    expect(byId(ranking, 'a').reasons[0]?.messageEn).toBe(
      '[R8] registered 2026-03-01 09:00, less than 30 minutes before the first visit 2026-03-01 09:20; not protected in a clash',
    );
    expect(codes(byId(ranking, 'b'))).toEqual(['priority.aheadOfLate']);
  });

  it('[R8] off by default: the earlier claim wins', () => {
    expect(rankCompetitors([late, compliant], DEFAULT_POLICY).map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('[R8] exactly 30 minutes ahead is enough; registering after the visit is late', () => {
    const onTime = candidate('a', 1, 9, 0, { firstVisitAt: shanghaiInstant(2026, 3, 1, 9, 30) });
    expect(rankCompetitors([onTime, compliant], thirtyMinutes).map((r) => r.id)).toEqual(['a', 'b']);
    const after = candidate('a', 1, 9, 0, { firstVisitAt: shanghaiInstant(2026, 3, 1, 8, 0) });
    expect(rankCompetitors([after, compliant], thirtyMinutes).map((r) => r.id)).toEqual(['b', 'a']);
  });

  it('[R8] late candidates keep their order among themselves', () => {
    const lateToo = candidate('c', 1, 9, 5, { firstVisitAt: shanghaiInstant(2026, 3, 1, 9, 20) });
    const ranking = rankCompetitors([lateToo, late, compliant], thirtyMinutes);
    expect(ranking.map((r) => r.id)).toEqual(['b', 'a', 'c']);
    expect(codes(byId(ranking, 'c'))).toEqual(['priority.registrationTime', 'priority.lateBeforeVisit']);
  });

  it('[R8] a date-only claim on the visit day cannot be judged: kept, but flagged for review', () => {
    const dated = dateOnly('d', 1, { firstVisitAt: shanghaiInstant(2026, 3, 1, 15, 0) });
    const nextDay = candidate('b', 2, 10, 0);
    const ranking = rankCompetitors([nextDay, dated], thirtyMinutes);
    expect(byId(ranking, 'd').needsReview).toBe(true);
    expect(codes(byId(ranking, 'd'))).toContain('priority.leadUnknown');
    expect(byId(ranking, 'd').rank).toBe(1);
  });

  it('[R8] a visit known only by its date (来访日期) does not make a claim that morning late: flagged for review', () => {
    // Registered at 09:00; the sheet says only that the visit was on 3月1日 (stored as its midnight).
    const visitDay = shanghaiInstant(2026, 3, 1);
    const sameDay = candidate('a', 1, 9, 0, { firstVisitAt: visitDay });
    const ranking = rankCompetitors([compliant, sameDay], thirtyMinutes);
    expect(ranking.map((r) => [r.id, r.rank])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(byId(ranking, 'a').needsReview).toBe(true);
    expect(codes(byId(ranking, 'a'))).toContain('priority.leadUnknown');
    expect(byId(ranking, 'a').reasons.at(-1)?.messageEn).toBe(
      '[R8] the first visit has a date only (2026-03-01); cannot tell whether the registration 2026-03-01 09:00 was at least 30 minutes before it; needs review',
    );
    // The day before the visit day is early enough; the day after it is late.
    const dayBefore = candidate('c', 1, 9, 0, { firstVisitAt: shanghaiInstant(2026, 3, 2) });
    expect(byId(rankCompetitors([compliant, dayBefore], thirtyMinutes), 'c')).toMatchObject({
      rank: 1,
      needsReview: false,
    });
    const dayAfter = candidate('e', 2, 9, 0, { firstVisitAt: visitDay });
    const late = rankCompetitors([compliant, dayAfter], thirtyMinutes);
    expect(byId(late, 'e').rank).toBe(2);
    expect(codes(byId(late, 'e'))).toContain('priority.lateBeforeVisit');
  });

  it('[R8] a date-only claim for a visit 10 minutes after midnight is late', () => {
    const dated = dateOnly('d', 1, { firstVisitAt: shanghaiInstant(2026, 3, 1, 0, 10) });
    expect(byId(rankCompetitors([compliant, dated], thirtyMinutes), 'd').rank).toBe(2);
  });
});

describe('determinism', () => {
  const hours = [
    shanghaiInstant(2026, 3, 1, 9),
    shanghaiInstant(2026, 3, 1, 15),
    shanghaiInstant(2026, 3, 2, 9),
  ];
  const candidateArb = (id: string) =>
    fc.record({
      id: fc.constant(id),
      registrant: fc.constantFrom('张三', '李四'),
      claimedAt: fc.constantFrom(...hours),
      claimHasTime: fc.boolean(),
      expectedAmount: fc.option(fc.constantFrom(100_000, 500_000), { nil: undefined }),
      expectedUnitPrice: fc.option(fc.constantFrom(8_000, 9_000), { nil: undefined }),
      expectedSignDate: fc.option(fc.constantFrom('2026-05-01', '2026-06-01'), { nil: undefined }),
      followUpCount: fc.integer({ min: 0, max: 2 }),
      firstVisitAt: fc.option(
        fc.constantFrom(shanghaiInstant(2026, 3, 1, 9, 10), shanghaiInstant(2026, 3, 3)),
        {
          nil: undefined,
        },
      ),
      channel: fc.option(fc.constantFrom('X', 'Y', 'Z'), { nil: undefined }),
      household: fc.option(fc.boolean(), { nil: undefined }),
    });
  const candidatesArb = fc
    .integer({ min: 0, max: 8 })
    .chain((count) => fc.tuple(...Array.from({ length: count }, (_, i) => candidateArb(`c${i}`))));
  const policyArb = fc.record({
    sameDayTie: fc.constantFrom('split' as const, 'first' as const, 'review' as const),
    minLeadMinutesBeforeVisit: fc.constantFrom(null, 30),
  });

  it('[R15] [R17] [R20] [R8] shuffling the input never changes the ranking (seeded)', () => {
    fc.assert(
      fc.property(
        candidatesArb.chain((cs) =>
          fc.tuple(fc.constant(cs), fc.shuffledSubarray(cs, { minLength: cs.length, maxLength: cs.length })),
        ),
        policyArb,
        ([original, shuffled], policy) => {
          expect(rankCompetitors(shuffled, policy)).toEqual(rankCompetitors(original, policy));
        },
      ),
      { seed: 20_261_123, numRuns: 500 },
    );
  });

  it('[R16] [R20] ranks start at 1, never decrease, and split shares add up to 100 (seeded)', () => {
    fc.assert(
      fc.property(candidatesArb, policyArb, (cs, policy) => {
        const ranking = rankCompetitors(cs, policy);
        expect(ranking).toHaveLength(cs.length);
        if (ranking.length > 0) expect(ranking[0]?.rank).toBe(1);
        ranking.forEach((r, i) => {
          expect(r.rank).toBeGreaterThanOrEqual(ranking[i - 1]?.rank ?? 1);
          expect(r.reasons.length).toBeGreaterThan(0);
        });
        const shared = new Map<number, number>();
        for (const r of ranking)
          if (r.share !== undefined) shared.set(r.rank, (shared.get(r.rank) ?? 0) + r.share);
        for (const total of shared.values()) expect(total).toBeCloseTo(100, 6);
      }),
      { seed: 20_261_124, numRuns: 500 },
    );
  });

  it('[R17] with distinct timed claims and no channels, the ranking is claim-time order (seeded)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 60 * 24 * 30 }), { maxLength: 10 }), (minutes) => {
        const cs = minutes.map((m, i) => ({
          ...candidate(`c${i}`, 1, 0, 0),
          claimedAt: new Date(Date.parse(shanghaiInstant(2026, 3, 1)) + m * 60_000).toISOString(),
        }));
        const expected = [...cs]
          .sort((a, b) => Date.parse(a.claimedAt) - Date.parse(b.claimedAt))
          .map((c) => c.id);
        const ranking = rankCompetitors(cs, DEFAULT_POLICY);
        expect(ranking.map((r) => r.id)).toEqual(expected);
        expect(ranking.map((r) => r.rank)).toEqual(expected.map((_, i) => i + 1));
      }),
      { seed: 20_261_125, numRuns: 200 },
    );
  });
});

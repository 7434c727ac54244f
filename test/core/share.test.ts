/**
 * R16: the share a record holds on a day (core effectiveShare) and whom it is shared with
 * (sharePartner), judged by both records' status on that day — what every reader shows.
 */
import { describe, expect, it } from 'vitest';
import { effectiveShare, sharePartner, type ShareView, type StatusView } from '../../core/lifecycle.js';

/** Li's 40% of a customer shared with Wang, protected through 2027-01-29 (extended, R28). */
const li: ShareView = {
  status: 'protected',
  protectedUntil: '2027-01-29',
  share: { withNo: 'BB-2026-000001', withRegistrant: '王磊', percent: 40 },
};
/** Wang's record, protected through 2026-12-29. */
const wang: StatusView = { status: 'protected', protectedUntil: '2026-12-29' };

describe('[R16] effectiveShare', () => {
  it('[R25] holds the split through the partner’s last day and the whole customer the day after, before any sweep', () => {
    expect(effectiveShare(li, wang, '2026-12-29')?.percent).toBe(40);
    expect(sharePartner(li, { today: '2026-12-29', partner: wang })).toBe('王磊');
    expect(effectiveShare(li, wang, '2026-12-30')).toEqual({ ...li.share, percent: 100 });
    expect(sharePartner(li, { today: '2026-12-30', partner: wang })).toBeUndefined();
  });

  it('holds the whole customer once the partner was closed, terminated or lapsed', () => {
    for (const status of ['terminated', 'expired', 'void', 'rejected'] as const) {
      expect(effectiveShare(li, { status }, '2026-11-01')?.percent, status).toBe(100);
    }
  });

  it('[R26] keeps the split while the partner protects or has signed: the deal is theirs to split', () => {
    for (const status of ['protected', 'extension-requested', 'signed'] as const) {
      expect(
        effectiveShare(li, { status, protectedUntil: '2026-12-29' }, '2026-11-01')?.percent,
        status,
      ).toBe(40);
    }
  });

  it('[R37] a record that ended keeps the split it held; a partner record not found leaves it as stored', () => {
    const ended = { ...li, status: 'signed' as const };
    expect(effectiveShare(ended, { status: 'expired' }, '2027-03-01')?.percent).toBe(40);
    expect(effectiveShare(li, undefined, '2027-01-01')?.percent).toBe(40);
    expect(effectiveShare({ status: 'protected' }, wang, '2027-01-01')).toBeUndefined();
  });
});

/**
 * What a change to a filed registration does (core/registrationChange), as pure functions over
 * plain data: parsing like a row, fixed fields, R4 lateness, the identity re-check against the
 * candidates the edge found (R3 view, own duplicates, possible → exact, leaving a conflict), the
 * ranking lock, history entries (R37), and resubmission of a rejected registration (R13).
 */
import { describe, expect, it } from 'vitest';
import { identityKeys } from '../../core/matching.js';
import { DEFAULT_POLICY, presetPolicy, type Policy } from '../../core/policy.js';
import {
  admitChange,
  decideChange,
  decideResubmission,
  type ChangeDecision,
  type ChangeRequest,
  type ChangeRole,
} from '../../core/registrationChange.js';
import {
  candidateOf,
  sortCandidates,
  type ActorFacts,
  type BanFact,
  type Candidate,
} from '../../core/registrationDecision.js';
import { eraseRecord } from '../../core/retention.js';
import type { IdentityKeys, Registration, StoredRecord } from '../../core/schema.js';

/** 2026-03-10 10:00 in Shanghai (a Tuesday). */
const NOW = '2026-03-10T02:00:00.000Z';
const TODAY = '2026-03-10';
const HOLDER: ActorFacts = { name: '王磊', role: 'sales', team: '华东一部' };
const REVIEWER: ActorFacts = { name: '李审', role: 'reviewer', team: '华东一部' };
const CODE_A = '91310115037061499U';

function stored(
  no: string,
  registration: Partial<Registration> & { registrant?: string },
  rest: Partial<StoredRecord> = {},
): StoredRecord {
  const reg: Registration = {
    customerName: '上海华信科技有限公司',
    customerType: 'enterprise',
    creditCode: CODE_A,
    source: '展会',
    registrant: '王磊',
    ...registration,
  };
  return {
    no,
    status: 'pending',
    registration: reg,
    identity: identityKeys(reg),
    team: '华东一部',
    submittedBy: reg.registrant,
    receivedAt: '2026-03-02T02:00:00.000Z',
    claimedAt: '2026-03-02T02:00:00.000Z',
    claimHasTime: true,
    reviewDueBy: '2026-03-11',
    followUps: [],
    history: [{ at: '2026-03-02T02:00:00.000Z', by: reg.registrant, action: 'register', to: 'pending' }],
    version: 1,
    ...rest,
  };
}

function candidatesOf(identity: IdentityKeys, records: StoredRecord[], exclude: string): Candidate[] {
  return sortCandidates(
    records.flatMap((r) => {
      if (r.no === exclude) return [];
      const c = candidateOf(r, identity, DEFAULT_POLICY, TODAY);
      return c === null ? [] : [c];
    }),
  );
}

/** Admits and decides a change the way the edge does, over the given other records. */
function change(
  record: StoredRecord,
  request: Partial<ChangeRequest> & Pick<ChangeRequest, 'changes'>,
  options: { others?: StoredRecord[]; as?: ChangeRole; policy?: Policy; bans?: BanFact[] } = {},
): ChangeDecision | { ok: false; admission: true; errors: ReturnType<typeof errorsOf> } {
  const as = options.as ?? 'holder';
  const policy = options.policy ?? DEFAULT_POLICY;
  const actor = as === 'holder' ? HOLDER : REVIEWER;
  const admission = admitChange(record, { reason: '更正', ...request }, { actor, as, policy, now: NOW });
  if (!admission.ok) return { ok: false, admission: true, errors: errorsOf(admission.errors) };
  const draft = admission.draft;
  const others = options.others ?? [];
  const identity = draft.identityChanged ? identityKeys(draft.registration) : record.identity;
  return decideChange({
    record,
    draft,
    actor,
    as,
    policy,
    now: NOW,
    identity,
    before: candidatesOf(record.identity, others, record.no),
    after: candidatesOf(identity, others, record.no),
    bans: options.bans ?? [],
  });
}

function errorsOf(problems: { code: string; field?: string }[]) {
  return problems.map((p) => ({ code: p.code, field: p.field }));
}

function applied(decision: ReturnType<typeof change>) {
  if (!decision.ok) throw new Error(`refused: ${JSON.stringify(decision)}`);
  return decision;
}

function refusedWith(decision: ReturnType<typeof change>) {
  if (decision.ok || 'admission' in decision) throw new Error(`not refused: ${JSON.stringify(decision)}`);
  return decision;
}

describe('admitChange: a change is parsed like a row', () => {
  it('[R37] non-identity fields apply at once; each changed field is one history entry (who, when, field, from → to)', () => {
    const record = stored('BB-2026-000001', { notes: '初次拜访', expectedAmount: 100_000 });
    const decision = applied(
      change(record, {
        changes: { expectedAmount: '50万', notes: '已报价', need: '  ERP 升级  ', industry: '制造业' },
        reason: '客户确认预算',
      }),
    );
    expect(decision.changed).toEqual(['industry', 'need', 'expectedAmount', 'notes']);
    expect(decision.record.registration).toMatchObject({
      expectedAmount: 500_000,
      notes: '已报价',
      need: 'ERP 升级',
      industry: '制造业',
    });
    expect(decision.record.version).toBe(2);
    expect(decision.record.history.slice(1)).toEqual([
      {
        at: NOW,
        by: '王磊',
        action: 'change',
        reason: '客户确认预算',
        details: { field: 'industry', from: null, to: '制造业', changedOn: TODAY },
      },
      {
        at: NOW,
        by: '王磊',
        action: 'change',
        reason: '客户确认预算',
        details: { field: 'need', from: null, to: 'ERP 升级', changedOn: TODAY },
      },
      {
        at: NOW,
        by: '王磊',
        action: 'change',
        reason: '客户确认预算',
        details: { field: 'expectedAmount', from: 100_000, to: 500_000, changedOn: TODAY },
      },
      {
        at: NOW,
        by: '王磊',
        action: 'change',
        reason: '客户确认预算',
        details: { field: 'notes', from: '初次拜访', to: '已报价', changedOn: TODAY },
      },
    ]);
    // Nothing else moves: the identity, the claim time (R17), the status.
    expect(decision.record.identity).toBe(record.identity);
    expect(decision.record.claimedAt).toBe(record.claimedAt);
    expect(decision.record.status).toBe('pending');
    // The input record is not touched.
    expect(record.history).toHaveLength(1);
    expect(record.version).toBe(1);
  });

  it('[R2][R5] values are normalised as on registration and every bad cell is named', () => {
    const record = stored('BB-2026-000002', { contactPhone: '13812345678' });
    const ok = applied(
      change(record, { changes: { contactPhone: '+86 139-0000-1111', email: 'Li@Example.COM ' } }),
    );
    expect(ok.record.registration.contactPhone).toBe('13900001111');
    expect(ok.record.registration.email).toBe('li@example.com');
    const bad = change(record, {
      changes: { contactPhone: '12345', email: 'nope', expectedSignDate: '2026年13月40日', creditCode: 'X' },
    });
    expect(bad.ok).toBe(false);
    expect('admission' in bad && bad.errors.map((e) => e.field).sort()).toEqual([
      'contactPhone',
      'creditCode',
      'email',
      'expectedSignDate',
    ]);
  });

  it('[R2][R5][R6] emptying what a registration needs is refused; a legacy gap the change does not touch is not', () => {
    const record = stored('BB-2026-000003', {});
    expect(change(record, { changes: { customerName: '' } })).toMatchObject({
      errors: [{ code: 'field.required', field: 'customerName' }],
    });
    expect(change(record, { changes: { customerType: null } })).toMatchObject({
      errors: [{ code: 'field.required', field: 'customerType' }],
    });
    expect(change(record, { changes: { creditCode: null } })).toMatchObject({
      errors: [{ code: 'customer.identification', field: 'creditCode' }],
    });
    expect(change(record, { changes: { source: '' } })).toMatchObject({
      errors: [{ code: 'field.required', field: 'source' }],
    });
    const { source: _source, ...withoutSource } = record.registration;
    const legacy = { ...record, registration: withoutSource };
    expect(applied(change(legacy, { changes: { notes: '补充说明' } })).changed).toEqual(['notes']);
  });

  it('[R17][R38] the claim time, the registrant and the team are never set by a change', () => {
    const record = stored('BB-2026-000004', {});
    const result = change(record, {
      changes: { registeredAt: '2026-01-01', registrant: '周杰', team: '华南二部' },
    });
    expect(result).toMatchObject({
      errors: [
        { code: 'change.field_fixed', field: 'registrant' },
        { code: 'change.field_fixed', field: 'team' },
        { code: 'change.field_fixed', field: 'registeredAt' },
      ],
    });
  });

  it('[R37] a closed registration is not changed; a rejected one can be corrected (R13)', () => {
    for (const status of ['signed', 'terminated', 'void', 'expired'] as const) {
      expect(change(stored('BB-2026-000005', {}, { status }), { changes: { notes: 'x' } })).toMatchObject({
        errors: [{ code: 'change.closed' }],
      });
    }
    // The status is quoted as its label: 已签约 was once written 已已签约.
    const signed = admitChange(
      stored('BB-2026-000005', {}, { status: 'signed' }),
      { reason: '更正', changes: { notes: 'x' } },
      { actor: HOLDER, as: 'holder', policy: DEFAULT_POLICY, now: NOW },
    );
    expect(signed.ok ? undefined : signed.errors[0]?.message).toBe(
      '报备 BB-2026-000005 的状态为“已签约”，不能再更改（其记录保持原样，R37）',
    );
    // A protection past its last day reads as expired (R25) even before the sweep wrote it.
    const lapsed = stored('BB-2026-000006', {}, { status: 'protected', protectedUntil: '2026-03-09' });
    expect(change(lapsed, { changes: { notes: 'x' } })).toMatchObject({
      errors: [{ code: 'change.closed' }],
    });
    const rejected = stored('BB-2026-000007', {}, { status: 'rejected', reasonCode: 'review.rejected' });
    expect(applied(change(rejected, { changes: { creditCode: '91310115000000007E' } })).changed).toEqual([
      'creditCode',
    ]);
  });

  it('[R31][R37] a record lapsed before the sweep wrote it void is not changed; one still in time is', () => {
    const policy = presetPolicy('follow-up');
    const ctx = { actor: HOLDER, as: 'holder' as const, policy, now: NOW };
    // Approved Monday 2 March: the first follow-up was due by Thursday 5 March (R31); today is 10 March.
    const approved = {
      status: 'protected' as const,
      approvedAt: '2026-03-02T02:00:00.000Z',
      protectedUntil: '2026-06-01',
    };
    const lapsed = admitChange(
      stored('BB-2026-000009', {}, approved),
      { reason: '补充', changes: { notes: 'x' } },
      ctx,
    );
    expect(lapsed).toMatchObject({ ok: false, errors: [{ code: 'registration.lapsed' }] });
    expect(lapsed.ok ? undefined : lapsed.errors[0]?.messageEn).toContain('2026-03-05');
    const served = stored(
      'BB-2026-000010',
      {},
      {
        ...approved,
        followUps: [{ at: '2026-03-09T02:00:00.000Z', by: '王磊', note: '拜访' }],
      },
    );
    expect(admitChange(served, { reason: '补充', changes: { notes: 'x' } }, ctx).ok).toBe(true);
  });

  it('[R4] a change recorded more than 3 working days after it happened is applied and flagged late', () => {
    const record = stored('BB-2026-000008', {});
    // Monday 2 March + 3 working days = Thursday 5 March; recorded Tuesday 10 March → late.
    const late = applied(change(record, { changes: { notes: '新联系人' }, changedOn: '2026-03-02' }));
    expect(late.warnings.map((w) => w.code)).toContain('change.late');
    expect(late.record.history.at(-1)?.details).toMatchObject({ changedOn: '2026-03-02', late: true });
    // Friday 6 March + 3 working days = Wednesday 11 March: in time.
    const inTime = applied(change(record, { changes: { notes: '新联系人' }, changedOn: '2026-03-06' }));
    expect(inTime.warnings.map((w) => w.code)).not.toContain('change.late');
    expect(inTime.record.history.at(-1)?.details).not.toHaveProperty('late');
    expect(change(record, { changes: { notes: 'x' }, changedOn: '2026-03-11' })).toMatchObject({
      errors: [{ code: 'changedOn.future', field: 'changedOn' }],
    });
  });

  it('a request that changes nothing saves nothing (same version, no history)', () => {
    const record = stored('BB-2026-000009', { contactPhone: '13812345678' });
    const same = applied(
      change(record, { changes: { contactPhone: '138 1234 5678', customerType: '企业' } }),
    );
    expect(same.changed).toEqual([]);
    expect(same.record).toBe(record);
  });

  it('[R18] a holder cannot move the customer into another team’s territory; a reviewer can', () => {
    const policy: Policy = {
      ...DEFAULT_POLICY,
      territory: { enabled: true, regionTeams: { 上海: '华东一部', 广州: '华南二部' } },
    };
    const record = stored('BB-2026-000010', { region: '上海' });
    expect(change(record, { changes: { region: '广州' } }, { policy })).toMatchObject({
      errors: [{ code: 'territory.foreign', field: 'region' }],
    });
    expect(
      applied(change(record, { changes: { region: '广州' } }, { policy, as: 'reviewer' })).changed,
    ).toEqual(['region']);
  });
});

describe('decideChange: an identity change is matched again', () => {
  const theirs = stored(
    'BB-2026-000020',
    { registrant: '周杰', customerName: '北京远景传媒有限公司', creditCode: '91310115000000007E' },
    {
      team: '华北一部',
      status: 'protected',
      protectedFrom: '2026-03-03',
      protectedUntil: '2026-06-02',
    },
  );

  it('[R3] onto another registrant’s active registration → refused with the conflict view, nothing of their customer', () => {
    const record = stored('BB-2026-000021', {});
    const refused = refusedWith(
      change(record, { changes: { creditCode: '91310115000000007E' } }, { others: [theirs] }),
    );
    expect(refused.error.code).toBe('change.conflict');
    expect(refused.conflicts).toEqual([
      {
        registrationNo: 'BB-2026-000020',
        status: 'protected',
        holder: { name: '周杰', team: '华北一部' },
        registeredAt: theirs.claimedAt,
        protectedUntil: '2026-06-02',
        matchedOn: 'creditCode',
        strength: 'exact',
      },
    ]);
    expect(JSON.stringify(refused)).not.toContain('远景');
  });

  it('[R3] an ended registration of someone else does not hold the customer: the change applies', () => {
    const ended = { ...theirs, status: 'expired' as const };
    const record = stored('BB-2026-000022', {});
    const ok = applied(
      change(record, { changes: { creditCode: '91310115000000007E' } }, { others: [ended] }),
    );
    expect(ok.record.identity.creditCode).toBe('91310115000000007E');
    expect(ok.record.history.at(-1)?.details).toMatchObject({ field: 'creditCode', identity: true });
  });

  it('onto the holder’s own other registration → refused as a duplicate, naming it', () => {
    const mine = stored('BB-2026-000023', {
      customerName: '上海星海物流有限公司',
      creditCode: '91310115000000007E',
    });
    const record = stored('BB-2026-000024', {});
    const refused = refusedWith(
      change(
        record,
        { changes: { creditCode: '91310115000000007E', customerName: '上海星海物流有限公司' } },
        { others: [mine] },
      ),
    );
    expect(refused.error.code).toBe('change.duplicate');
    expect(refused.error.message).toContain('BB-2026-000023');
    expect(refused.details).toEqual({ registrationNo: 'BB-2026-000023' });
  });

  it('a change that turns a possible match exact is refused when the other is someone else’s active claim', () => {
    // Same phone, different contact: possible (switchboards are shared). Same contact: exact.
    const other = stored('BB-2026-000025', {
      registrant: '周杰',
      customerName: '上海远景传媒有限公司',
      creditCode: undefined,
      address: '南京路1号',
      contactPhone: '13812345678',
      contactName: '李秀英',
    });
    const record = stored('BB-2026-000026', {
      customerName: '上海恒通贸易有限公司',
      creditCode: undefined,
      address: '淮海路2号',
      contactPhone: '13812345678',
      contactName: '张伟',
    });
    const before = candidatesOf(record.identity, [other], record.no);
    expect(before.map((c) => c.match)).toEqual([{ matchedOn: 'phone', strength: 'possible' }]);
    const refused = refusedWith(change(record, { changes: { contactName: '李秀英' } }, { others: [other] }));
    expect(refused.error.code).toBe('change.conflict');
    expect(refused.conflicts.map((c) => [c.registrationNo, c.strength])).toEqual([
      ['BB-2026-000025', 'exact'],
    ]);
    // The possible match alone never blocks: other changes of that record apply, showing it.
    const ok = applied(change(record, { changes: { notes: '补充' } }, { others: [other] }));
    expect(ok.conflicts.map((c) => c.strength)).toEqual(['possible']);
  });

  it('a new possible match is applied with a warning for the reviewer', () => {
    const other = stored('BB-2026-000027', {
      registrant: '周杰',
      customerName: '上海远景传媒有限公司',
      creditCode: undefined,
      address: '南京路1号',
      contactPhone: '13812345678',
      contactName: '李秀英',
    });
    const record = stored('BB-2026-000028', { contactName: '张伟' });
    const ok = applied(change(record, { changes: { contactPhone: '13812345678' } }, { others: [other] }));
    expect(ok.warnings.map((w) => w.code)).toEqual(['match.possible']);
    expect(ok.conflicts.map((c) => c.registrationNo)).toEqual(['BB-2026-000027']);
  });

  it('a registration that competes for a customer cannot change identity away from it; a change keeping the match applies', () => {
    const competitor = stored(
      'BB-2026-000029',
      { registrant: '周杰' },
      { status: 'conflict', conflictKind: 'competing', blockedBy: ['BB-2026-000030'] },
    );
    const record = stored('BB-2026-000030', { contactPhone: '13812345678' });
    const away = refusedWith(
      change(
        record,
        { changes: { customerName: '上海星海物流有限公司', creditCode: '91310115000000007E' } },
        { others: [competitor] },
      ),
    );
    expect(away.error.code).toBe('change.in_conflict');
    expect(away.conflicts.map((c) => c.registrationNo)).toEqual(['BB-2026-000029']);
    const phone = applied(
      change(record, { changes: { contactPhone: '13900001111' } }, { others: [competitor] }),
    );
    expect(phone.changed).toEqual(['contactPhone']);
    expect(phone.record.status).toBe('pending');
  });

  it('[R27] a change onto a customer the registrant is barred from is refused', () => {
    const barred = identityKeys({
      customerName: '上海星海物流有限公司',
      customerType: 'enterprise',
      creditCode: '91310115000000007E',
      registrant: '王磊',
    });
    const record = stored('BB-2026-000031', {});
    const refused = refusedWith(
      change(
        record,
        { changes: { creditCode: '91310115000000007E' } },
        { bans: [{ identity: barred, until: '2026-05-31' }] },
      ),
    );
    expect(refused.error.code).toBe('registration.banned');
    expect(refused.details).toEqual({ until: '2026-05-31' });

    // R44: a former holder's cooldown on a pooled customer is said as such, with the day to claim again.
    const cooled = refusedWith(
      change(
        record,
        { changes: { creditCode: '91310115000000007E' } },
        { bans: [{ identity: barred, until: '2026-05-31', poolCooldown: true }] },
      ),
    );
    expect(cooled.error.code).toBe('pool.cooldown');
    expect(cooled.error.message).not.toContain('虚假');
    expect(cooled.details).toEqual({ mayClaimFrom: '2026-06-01' });
  });

  it('[R15] while a reviewer ranks competing registrations, the holder cannot change what the ranking reads; a reviewer can', () => {
    const competitor = stored(
      'BB-2026-000032',
      { registrant: '周杰' },
      { status: 'conflict', conflictKind: 'competing' },
    );
    const record = stored('BB-2026-000033', {});
    const refused = refusedWith(
      change(record, { changes: { expectedAmount: '100万' } }, { others: [competitor] }),
    );
    expect(refused.error.code).toBe('change.ranking_locked');
    expect(refused.error.field).toBe('expectedAmount');
    expect(applied(change(record, { changes: { notes: '补充' } }, { others: [competitor] })).changed).toEqual(
      ['notes'],
    );
    expect(
      applied(
        change(record, { changes: { expectedAmount: '100万' } }, { others: [competitor], as: 'reviewer' }),
      ).changed,
    ).toEqual(['expectedAmount']);
    // Without competitors the amounts apply at once.
    expect(applied(change(record, { changes: { expectedAmount: '100万' } })).changed).toEqual([
      'expectedAmount',
    ]);
  });
});

describe('[R29] changing the first visit of a protection counted from it', () => {
  const CHANNEL = presetPolicy('channel');
  /** First visit 2026-03-01 (Shanghai), approved 2026-03-02: one month, 2026-03-01 … 2026-03-31. */
  function granted(
    rest: Partial<StoredRecord> = {},
    firstVisitAt: string | null = '2026-02-28T16:00:00.000Z',
  ) {
    return stored('BB-2026-000001', firstVisitAt === null ? {} : { firstVisitAt }, {
      status: 'protected',
      approvedAt: '2026-03-02T02:00:00.000Z',
      protectedFrom: '2026-03-01',
      protectedUntil: '2026-03-31',
      reviewDueBy: undefined,
      ...rest,
    });
  }

  it('the holder is refused either way: a later visit would lengthen their own protection', () => {
    for (const day of ['2026-03-05', '2026-02-25']) {
      const refused = refusedWith(change(granted(), { changes: { firstVisitAt: day } }, { policy: CHANNEL }));
      expect(refused.error).toMatchObject({ code: 'change.protection_granted', field: 'firstVisitAt' });
      expect(refused.error.message).toContain('2026-03-31');
      expect(refused.error.messageEn).toContain('2026-03-31');
      expect(refused.details).toEqual({ protectedFrom: '2026-03-01', protectedUntil: '2026-03-31' });
    }
  });

  it('a reviewer’s correction moves the window, and the history says to which days', () => {
    const done = applied(
      change(granted(), { changes: { firstVisitAt: '2026-02-25' } }, { policy: CHANNEL, as: 'reviewer' }),
    );
    expect(done.record).toMatchObject({ protectedFrom: '2026-02-25', protectedUntil: '2026-03-24' });
    expect(done.record.history.at(-1)?.details).toMatchObject({
      field: 'firstVisitAt',
      protectedFrom: '2026-02-25',
      protectedUntil: '2026-03-24',
    });
  });

  it('an approved extension (R28) keeps its length when a reviewer moves the window', () => {
    // Extended by 3 months: 2026-03-31 → 2026-06-30, 91 days added.
    const extended = granted({ protectedUntil: '2026-06-30' });
    const done = applied(
      change(extended, { changes: { firstVisitAt: '2026-03-05' } }, { policy: CHANNEL, as: 'reviewer' }),
    );
    // 2026-03-05 … 2026-04-04, plus the same 91 days.
    expect(done.record).toMatchObject({ protectedFrom: '2026-03-05', protectedUntil: '2026-07-04' });
  });

  it('a window counted from approval for want of a visit is counted from the visit a reviewer enters', () => {
    const fallback = granted({ protectedFrom: '2026-03-02', protectedUntil: '2026-04-01' }, null);
    const holder = refusedWith(
      change(fallback, { changes: { firstVisitAt: '2026-03-09' } }, { policy: CHANNEL }),
    );
    expect(holder.error.code).toBe('change.protection_granted');
    const done = applied(
      change(fallback, { changes: { firstVisitAt: '2026-02-20' } }, { policy: CHANNEL, as: 'reviewer' }),
    );
    expect(done.record).toMatchObject({ protectedFrom: '2026-02-20', protectedUntil: '2026-03-19' });
  });

  it('dates not counted from the visit do not move, so the holder may change it', () => {
    // Under the standard preset protection counts from approval (R25).
    const standard = applied(change(granted(), { changes: { firstVisitAt: '2026-03-05' } }));
    expect(standard.record).toMatchObject({ protectedFrom: '2026-03-01', protectedUntil: '2026-03-31' });
    // A shared window (R16) is one grant for two records; one record's visit does not move it.
    const share = { withNo: 'BB-2026-000002', withRegistrant: '李娜', percent: 50 };
    const shared = applied(
      change(granted({ share }), { changes: { firstVisitAt: '2026-03-05' } }, { policy: CHANNEL }),
    );
    expect(shared.record).toMatchObject({ protectedFrom: '2026-03-01', protectedUntil: '2026-03-31' });
  });
});

describe('decideResubmission (R13)', () => {
  const rejected = stored(
    'BB-2026-000040',
    {},
    {
      status: 'rejected',
      reasonCode: 'review.rejected',
      reason: '资料不全',
      reviewDueBy: undefined,
      version: 3,
    },
  );
  delete rejected.reviewDueBy;

  function resubmit(record: StoredRecord, others: StoredRecord[] = [], winner?: StoredRecord) {
    return decideResubmission({
      record,
      actor: HOLDER,
      policy: DEFAULT_POLICY,
      now: NOW,
      reason: '已补充信用代码',
      candidates: candidatesOf(record.identity, others, record.no),
      bans: [],
      winner,
    });
  }

  it('[R13][R12] goes back to review with its number, history and claim time; the review deadline restarts', () => {
    const decision = resubmit(rejected);
    if (!decision.ok) throw new Error(decision.error.code);
    const r = decision.record;
    expect(r.no).toBe(rejected.no);
    expect(r.status).toBe('pending');
    // Tuesday 10 March + 7 working days = Thursday 19 March.
    expect(r.reviewDueBy).toBe('2026-03-19');
    expect(r.claimedAt).toBe(rejected.claimedAt);
    expect(r.reasonCode).toBeUndefined();
    expect(r.reason).toBeUndefined();
    expect(r.version).toBe(4);
    expect(r.history.slice(0, rejected.history.length)).toEqual(rejected.history);
    expect(r.history.at(-1)).toEqual({
      at: NOW,
      by: '王磊',
      action: 'resubmit',
      from: 'rejected',
      to: 'pending',
      reason: '已补充信用代码',
      details: { rejected: 'review.rejected' },
    });
  });

  it('[R13] only a rejected registration is resubmitted', () => {
    const decision = resubmit(stored('BB-2026-000041', {}));
    expect(decision).toMatchObject({ ok: false, error: { code: 'resubmit.not_rejected' } });
  });

  it('[R39] a destroyed record is neither resubmitted nor changed (PATCH, sheet or import correction)', () => {
    const destroyed = eraseRecord(rejected, NOW, { requestedBy: '甲', approvedBy: '乙', requestId: 'd-1' });
    expect(resubmit(destroyed)).toMatchObject({ ok: false, error: { code: 'retention.destroyed' } });
    // Its old name: what a correction row or a sheet edit would put back.
    const admission = change(destroyed, { changes: { customerName: '上海华信科技有限公司' } });
    expect(admission).toMatchObject({ ok: false, errors: [{ code: 'retention.destroyed' }] });
    expect(change(destroyed, { changes: { notes: '补充' } }, { as: 'reviewer' })).toMatchObject({
      ok: false,
      errors: [{ code: 'retention.destroyed' }],
    });
  });

  it('[R12] a registration that lost a conflict is not resubmitted while the winner holds; it is once the winner ended', () => {
    const lost = { ...rejected, reasonCode: 'conflict.lost', objectionDeadline: '2026-03-12' };
    const winner = stored(
      'BB-2026-000042',
      { registrant: '周杰' },
      { status: 'protected', protectedFrom: '2026-03-05', protectedUntil: '2026-06-04' },
    );
    expect(resubmit(lost, [winner], winner)).toMatchObject({
      ok: false,
      error: { code: 'resubmit.conflict_lost' },
      details: { winner: 'BB-2026-000042' },
    });
    const ended = { ...winner, status: 'terminated' as const };
    const again = resubmit(lost, [ended], ended);
    expect(again.ok).toBe(true);
    if (again.ok) expect(again.record.objectionDeadline).toBeUndefined();
    // [R26] A winner who signed closed the deal: not resubmitted, as the queue behind it is not.
    const signed = { ...winner, status: 'signed' as const };
    expect(resubmit(lost, [signed], signed)).toMatchObject({
      ok: false,
      error: { code: 'resubmit.customer_signed' },
    });
  });

  it('[R17] someone who registered the customer while it was rejected comes first: refused with the conflict view', () => {
    const newcomer = stored('BB-2026-000043', { registrant: '周杰' }, { team: '华北一部' });
    const decision = resubmit(rejected, [newcomer]);
    expect(decision).toMatchObject({
      ok: false,
      error: { code: 'resubmit.conflict' },
      conflicts: [{ registrationNo: 'BB-2026-000043', holder: { name: '周杰', team: '华北一部' } }],
    });
  });

  it('the holder’s own active registration of the customer → not resubmitted, naming it', () => {
    const mine = stored('BB-2026-000044', {});
    expect(resubmit(rejected, [mine])).toMatchObject({
      ok: false,
      error: { code: 'resubmit.duplicate' },
      details: { registrationNo: 'BB-2026-000044' },
    });
  });

  it('[R44] within a pool cooldown on its customer → refused as the cooldown, not as a false-information ban', () => {
    const decision = decideResubmission({
      record: rejected,
      actor: HOLDER,
      policy: DEFAULT_POLICY,
      now: NOW,
      candidates: [],
      bans: [{ identity: rejected.identity, until: '2026-12-20', poolCooldown: true }],
    });
    expect(decision).toMatchObject({
      ok: false,
      error: { code: 'pool.cooldown' },
      details: { mayClaimFrom: '2026-12-21' },
    });
  });

  it('a customer signed by someone else is not resubmitted', () => {
    expect(resubmit({ ...rejected, reasonCode: 'customer.signed' })).toMatchObject({
      ok: false,
      error: { code: 'resubmit.customer_signed' },
    });
  });
});

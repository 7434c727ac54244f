import { describe, expect, it } from 'vitest';
import { identityKeys } from '../../core/matching.js';
import { DEFAULT_POLICY, presetPolicy, type Policy } from '../../core/policy.js';
import {
  admitRow,
  candidateOf,
  decideRegistration,
  numberRecord,
  sortCandidates,
  type ActorFacts,
  type BanFact,
  type Candidate,
  type Claim,
} from '../../core/registrationDecision.js';
import type { IdentityKeys, Registration, StoredRecord, SubmissionRow } from '../../core/schema.js';

/** 2026-03-10 10:00 in Shanghai (a Tuesday). */
const RECEIVED = '2026-03-10T02:00:00.000Z';
const TODAY = '2026-03-10';
const SALES: ActorFacts = { name: '王磊', role: 'sales', team: '华东一部' };
const REVIEWER: ActorFacts = { name: '李审', role: 'reviewer' };
const ADMIN: ActorFacts = { name: '管理员', role: 'admin' };
const CUSTOMER = '上海华信科技有限公司';
const CODE = '91310115037061499U';

function row(fields: Partial<SubmissionRow> = {}): SubmissionRow {
  return {
    clientRowId: 1,
    customerName: CUSTOMER,
    customerType: '企业',
    creditCode: CODE,
    contactPhone: '138 1234 5678',
    source: '展会',
    region: '上海',
    ...fields,
  };
}

function admitted(
  fields: Partial<SubmissionRow> = {},
  actor: ActorFacts = SALES,
  options: { policy?: Policy; history?: boolean; receivedAt?: string } = {},
): Claim {
  const admission = admitRow(row(fields), {
    actor,
    policy: options.policy ?? DEFAULT_POLICY,
    receivedAt: options.receivedAt ?? RECEIVED,
    ...(options.history ? { history: true } : {}),
  });
  if (!admission.ok) throw new Error(`not admitted: ${JSON.stringify(admission.result.errors)}`);
  return admission.claim;
}

function identityOf(
  reg: Pick<Registration, 'customerName' | 'customerType'> & Partial<Registration>,
): IdentityKeys {
  return identityKeys({ registrant: '某人', ...reg });
}

/** A stored record of a customer (clear identity keys: core compares opaque strings either way). */
function stored(
  no: string,
  fields: Partial<StoredRecord> & { registrant?: string; reg?: Partial<Registration> },
): StoredRecord {
  const { registrant = '周杰', reg = {}, ...rest } = fields;
  const registration: Registration = {
    customerName: CUSTOMER,
    customerType: 'enterprise',
    creditCode: CODE,
    registrant,
    ...reg,
  };
  return {
    no,
    status: 'pending',
    registration,
    identity: identityKeys(registration),
    submittedBy: registrant,
    receivedAt: '2026-03-01T02:00:00.000Z',
    claimedAt: '2026-03-01T02:00:00.000Z',
    claimHasTime: true,
    followUps: [],
    history: [],
    version: 1,
    ...rest,
  };
}

function candidates(claim: Claim, records: StoredRecord[], protectingOn?: string): Candidate[] {
  const identity = identityKeys(claim.registration);
  const found = records.flatMap((r) => {
    const c = candidateOf(r, identity, DEFAULT_POLICY, claim.today, protectingOn);
    return c === null ? [] : [c];
  });
  return sortCandidates(found);
}

function decide(
  claim: Claim,
  found: {
    candidates?: StoredRecord[];
    bans?: BanFact[];
    registrantTeam?: string;
    policy?: Policy;
    actor?: ActorFacts;
  } = {},
) {
  return decideRegistration({
    claim,
    actor: found.actor ?? SALES,
    policy: found.policy ?? DEFAULT_POLICY,
    identity: identityKeys(claim.registration),
    registrantTeam: found.registrantTeam,
    bans: found.bans ?? [],
    candidates: candidates(claim, found.candidates ?? [], claim.protectingOn),
  });
}

describe('admitRow', () => {
  it('[R2][R5][R6] an invalid row is answered at once, naming every bad field, with nothing to look up', () => {
    const admission = admitRow(row({ customerName: '', contactPhone: '12345', source: null }), {
      actor: SALES,
      policy: DEFAULT_POLICY,
      receivedAt: RECEIVED,
    });
    expect(admission.ok).toBe(false);
    if (admission.ok) return;
    expect(admission.result.status).toBe('invalid');
    expect(admission.result.clientRowId).toBe(1);
    expect(admission.result.errors.map((e) => e.field).sort()).toEqual([
      'contactPhone',
      'customerName',
      'source',
    ]);
    expect(admission.result.conflicts).toEqual([]);
    expect(admission.result.registrationNo).toBeUndefined();
  });

  it('[R34] sales register only for themselves; a reviewer registers for someone else', () => {
    const forOther = admitRow(row({ registrant: '周杰' }), {
      actor: SALES,
      policy: DEFAULT_POLICY,
      receivedAt: RECEIVED,
    });
    expect(forOther.ok).toBe(false);
    if (!forOther.ok) expect(forOther.result.errors.map((e) => e.code)).toEqual(['registrant.forbidden']);
    const byReviewer = admitted({ registrant: '周杰' }, REVIEWER);
    expect(byReviewer.registration.registrant).toBe('周杰');
    // Without a registrant column the signed-in user registers.
    expect(admitted().registration.registrant).toBe('王磊');
  });

  it('[R34] a row for someone else is refused for that too when another cell is wrong, so one fix is enough', () => {
    const admission = admitRow(row({ registrant: '周杰', contactPhone: '12345' }), {
      actor: SALES,
      policy: DEFAULT_POLICY,
      receivedAt: RECEIVED,
    });
    expect(admission.ok).toBe(false);
    if (!admission.ok)
      expect(admission.result.errors.map((e) => [e.code, e.field])).toEqual([
        ['phone.invalid', 'contactPhone'],
        ['registrant.forbidden', 'registrant'],
      ]);
    // A registrant cell that is itself wrong (blank) is reported once, as that.
    const blank = admitRow(row({ registrant: '', contactPhone: '12345' }), {
      actor: SALES,
      policy: DEFAULT_POLICY,
      receivedAt: RECEIVED,
    });
    if (!blank.ok) expect(blank.result.errors.map((e) => e.code)).not.toContain('registrant.forbidden');
  });

  it('only administrators send approval dates or statuses (history migration)', () => {
    const sales = admitRow(row({ approvedAt: '2026-01-05', status: 'protected' }), {
      actor: SALES,
      policy: DEFAULT_POLICY,
      receivedAt: RECEIVED,
    });
    expect(sales.ok).toBe(false);
    if (!sales.ok)
      expect(sales.result.errors[0]).toMatchObject({ code: 'approvedAt.forbidden', field: 'approvedAt' });
    const statusOnly = admitRow(row({ status: 'signed' }), {
      actor: REVIEWER,
      policy: DEFAULT_POLICY,
      receivedAt: RECEIVED,
    });
    expect(statusOnly.ok).toBe(false);
    if (!statusOnly.ok)
      expect(statusOnly.result.errors[0]).toMatchObject({ code: 'approvedAt.forbidden', field: 'status' });
    const admin = admitted({ approvedAt: '2026-01-05', status: 'protected', registrant: '周杰' }, ADMIN);
    expect(admin).toMatchObject({ migrating: true, historyStatus: 'protected', protectingOn: TODAY });
    expect(admin.approvedAt).toBe('2026-01-04T16:00:00.000Z');
  });

  it('an unreadable approval date is an error on approvedAt', () => {
    const admission = admitRow(row({ approvedAt: '不知道', registrant: '周杰' }), {
      actor: ADMIN,
      policy: DEFAULT_POLICY,
      receivedAt: RECEIVED,
    });
    expect(admission.ok).toBe(false);
    if (!admission.ok) expect(admission.result.errors.map((e) => e.field)).toEqual(['approvedAt']);
  });

  it('[R17] sales cannot backdate: the receipt time counts and the sheet’s date is ignored with a warning', () => {
    const claim = admitted({ registeredAt: '2026-03-02' });
    expect(claim.claimedAt).toBe(RECEIVED);
    expect(claim.claimHasTime).toBe(true);
    expect(claim.warnings.map((w) => w.code)).toContain('registeredAt.ignored');
    expect(claim.protectingOn).toBeUndefined();
    // The same day as the receipt is no backdating: no warning.
    expect(admitted({ registeredAt: '2026-03-10' }).warnings.map((w) => w.code)).not.toContain(
      'registeredAt.ignored',
    );
  });

  it('[R17] an administrator backdates; a date without a time is known to the day only', () => {
    const claim = admitted({ registeredAt: '2026-03-02', registrant: '周杰' }, ADMIN);
    expect(claim.claimedAt).toBe('2026-03-01T16:00:00.000Z');
    expect(claim.claimHasTime).toBe(false);
    expect(claim.migrating).toBe(false);
    expect(admitted({ registeredAt: '2026-03-02 09:30', registrant: '周杰' }, ADMIN).claimHasTime).toBe(true);
  });

  it('[R4] a registration more than 3 working days after the first visit is flagged, not refused', () => {
    const late = admitted({ firstVisitAt: '2026-03-02' });
    expect(late.warnings.map((w) => w.code)).toContain('registration.late');
    const inTime = admitted({ firstVisitAt: '2026-03-06' });
    expect(inTime.warnings.map((w) => w.code)).not.toContain('registration.late');
  });

  it('[R18] a claimed territory exception is carried to the decision', () => {
    expect(admitted({ territoryException: 'unified-tender' }).territoryExceptionClaimed).toBe(true);
    expect(admitted().territoryExceptionClaimed).toBe(false);
  });
});

describe('candidateOf / sortCandidates', () => {
  const claim = admitted();
  const identity = identityKeys(claim.registration);

  it('[R21] ended records are no candidates; a protection past its last day reads expired and is left out', () => {
    expect(candidateOf(stored('A', { status: 'rejected' }), identity, DEFAULT_POLICY, TODAY)).toBeNull();
    expect(candidateOf(stored('B', { status: 'signed' }), identity, DEFAULT_POLICY, TODAY)).toBeNull();
    const lapsed = stored('C', {
      status: 'protected',
      protectedFrom: '2025-11-01',
      protectedUntil: '2026-01-31',
    });
    expect(candidateOf(lapsed, identity, DEFAULT_POLICY, TODAY)).toBeNull();
    const holding = stored('D', {
      status: 'protected',
      protectedFrom: '2026-03-01',
      protectedUntil: '2026-05-31',
    });
    expect(candidateOf(holding, identity, DEFAULT_POLICY, TODAY)).toMatchObject({
      status: 'protected',
      match: { matchedOn: 'creditCode', strength: 'exact' },
    });
  });

  it('[R21] migration: a record protecting the customer on the claim’s own day counts, though ended since (not when rejected)', () => {
    const ended = stored('E', {
      status: 'expired',
      protectedFrom: '2025-11-01',
      protectedUntil: '2026-01-31',
    });
    expect(candidateOf(ended, identity, DEFAULT_POLICY, TODAY)).toBeNull();
    expect(candidateOf(ended, identity, DEFAULT_POLICY, TODAY, '2026-01-15')).toMatchObject({
      status: 'expired',
    });
    expect(candidateOf(ended, identity, DEFAULT_POLICY, TODAY, '2026-02-01')).toBeNull();
    const rejected = stored('F', {
      status: 'rejected',
      protectedFrom: '2025-11-01',
      protectedUntil: '2026-01-31',
    });
    expect(candidateOf(rejected, identity, DEFAULT_POLICY, TODAY, '2026-01-15')).toBeNull();
  });

  it('a record of another customer is no candidate', () => {
    const other = stored('G', {
      reg: { customerName: '北京远航物流有限公司', creditCode: '91420106776901076X' },
    });
    expect(candidateOf(other, identity, DEFAULT_POLICY, TODAY)).toBeNull();
  });

  it('takes the match the caller already worked out instead of comparing the identities again', () => {
    const same = stored('H', { status: 'pending' });
    const compared = candidateOf(same, identity, DEFAULT_POLICY, TODAY);
    expect(compared?.match.strength).toBe('exact');
    const given = { matchedOn: 'phone', strength: 'possible' } as const;
    expect(candidateOf(same, identity, DEFAULT_POLICY, TODAY, undefined, given)?.match).toBe(given);
    expect(candidateOf(same, identity, DEFAULT_POLICY, TODAY, undefined, null)).toBeNull();
  });

  it('[R17] exact matches first, then the earliest claim', () => {
    const possible = stored('P', {
      claimedAt: '2026-01-01T00:00:00.000Z',
      reg: { customerName: '华信科技', creditCode: undefined, registrant: '周杰' },
    });
    const late = stored('L', { claimedAt: '2026-03-05T00:00:00.000Z' });
    const early = stored('E', { claimedAt: '2026-02-01T00:00:00.000Z' });
    const sorted = candidates(claim, [possible, late, early]);
    expect(sorted.map((c) => [c.record.no, c.match.strength])).toEqual([
      ['E', 'exact'],
      ['L', 'exact'],
      ['P', 'possible'],
    ]);
  });
});

describe('decideRegistration', () => {
  it('[R7][R12] a new customer is pending, due for review in 7 working days, and saved once numbered', () => {
    const claim = admitted();
    const decision = decide(claim);
    expect(decision.result).toEqual({
      clientRowId: 1,
      errors: [],
      warnings: [],
      conflicts: [],
      status: 'pending',
      reviewDueBy: '2026-03-19',
    });
    expect(decision.save?.year).toBe(2026);
    expect(decision.save?.record).toMatchObject({
      status: 'pending',
      submittedBy: '王磊',
      team: '华东一部',
      receivedAt: RECEIVED,
      claimedAt: RECEIVED,
      reviewDueBy: '2026-03-19',
      history: [{ at: RECEIVED, by: '王磊', action: 'register', to: 'pending' }],
    });
    const numbered = numberRecord(decision, 'BB-2026-000007');
    expect(numbered.record.no).toBe('BB-2026-000007');
    expect(numbered.result.registrationNo).toBe('BB-2026-000007');
    expect(() =>
      numberRecord(
        decide(claim, { bans: [{ identity: decision.save!.record.identity, until: '2026-05-31' }] }),
        'BB-2026-000008',
      ),
    ).toThrow();
    expect(Object.keys(numbered.result)).toEqual([
      'clientRowId',
      'errors',
      'warnings',
      'conflicts',
      'status',
      'registrationNo',
      'reviewDueBy',
    ]);
  });

  it('is pure: the same facts give the same decision, and the claim is left as it was', () => {
    const claim = admitted({ registeredAt: '2026-03-02' });
    const warningsBefore = structuredClone(claim.warnings);
    const holder = stored('H', {
      status: 'protected',
      protectedFrom: '2026-03-01',
      protectedUntil: '2026-05-31',
    });
    const first = decide(claim, { candidates: [holder] });
    const second = decide(claim, { candidates: [holder] });
    expect(second).toEqual(first);
    expect(claim.warnings).toEqual(warningsBefore);
  });

  it('[R27] a ban of this registrant for the customer rejects the row with the until-date; nothing is saved', () => {
    const claim = admitted();
    const ban: BanFact = {
      identity: identityOf({ customerName: CUSTOMER, customerType: 'enterprise', creditCode: CODE }),
      until: '2026-05-31',
    };
    const decision = decide(claim, { bans: [ban], candidates: [stored('A', {})] });
    expect(decision.save).toBeUndefined();
    expect(decision.result.status).toBe('rejected');
    expect(decision.result.errors).toEqual([expect.objectContaining({ code: 'registration.banned' })]);
    expect(decision.result.errors[0]!.messageEn).toContain('2026-05-31');
    // A ban is checked before anything else: the candidates are not even listed.
    expect(decision.result.conflicts).toEqual([]);
  });

  it('[R27] a ban for a customer that only possibly matches does not bar the row', () => {
    const claim = admitted();
    const other: BanFact = {
      identity: identityOf({ customerName: '华信科技', customerType: 'enterprise' }),
      until: '2026-05-31',
    };
    expect(decide(claim, { bans: [other] }).result.status).toBe('pending');
  });

  it('the registrant’s own earlier registration → duplicate with its number and dates, nothing saved', () => {
    const claim = admitted();
    const mine = stored('BB-2026-000003', {
      registrant: '王磊',
      status: 'protected',
      protectedFrom: '2026-03-02',
      protectedUntil: '2026-06-01',
    });
    const decision = decide(claim, { candidates: [mine] });
    expect(decision.save).toBeUndefined();
    expect(decision.result).toMatchObject({
      status: 'duplicate',
      registrationNo: 'BB-2026-000003',
      protectedFrom: '2026-03-02',
      protectedUntil: '2026-06-01',
      warnings: [expect.objectContaining({ code: 'registration.duplicate' })],
    });
    expect(decision.result.conflicts).toHaveLength(1);
  });

  it('[R21] a customer protected for someone else → conflict, queued behind the holder', () => {
    const claim = admitted();
    const holder = stored('BB-2026-000001', {
      status: 'protected',
      team: '华东二部',
      protectedFrom: '2026-03-02',
      protectedUntil: '2026-06-01',
    });
    const decision = decide(claim, { candidates: [holder] });
    expect(decision.save?.record).toMatchObject({
      status: 'conflict',
      conflictKind: 'queued',
      blockedBy: ['BB-2026-000001'],
      reviewDueBy: '2026-03-19',
      history: [{ action: 'register', to: 'conflict', details: { blockedBy: 'BB-2026-000001' } }],
    });
    expect(decision.result.status).toBe('conflict');
    expect(decision.result.warnings.map((w) => w.messageEn).join()).toContain('(R21)');
    // R3: the holder's name, team and dates; none of the holder's customer details.
    expect(decision.result.conflicts).toEqual([
      {
        registrationNo: 'BB-2026-000001',
        status: 'protected',
        holder: { name: '周杰', team: '华东二部' },
        registeredAt: '2026-03-01T02:00:00.000Z',
        protectedUntil: '2026-06-01',
        matchedOn: 'creditCode',
        strength: 'exact',
      },
    ]);
  });

  it('[R15][R17] pending claims of others → conflict, competing with every one of them', () => {
    const claim = admitted();
    const a = stored('BB-2026-000001', { claimedAt: '2026-03-02T01:00:00.000Z' });
    const b = stored('BB-2026-000002', {
      status: 'conflict',
      registrant: '李娜',
      claimedAt: '2026-03-03T01:00:00.000Z',
    });
    const decision = decide(claim, { candidates: [b, a] });
    expect(decision.save?.record).toMatchObject({
      status: 'conflict',
      conflictKind: 'competing',
      blockedBy: ['BB-2026-000001', 'BB-2026-000002'],
    });
    expect(decision.result.warnings.map((w) => w.messageEn).join()).toContain('(R15)');
  });

  it('possible matches only → pending, listed, with a match.possible warning; never auto-approved', () => {
    const claim = admitted({ creditCode: null, address: '上海市人民路 1 号' });
    const near = stored('BB-2026-000009', { reg: { customerName: '华信科技', creditCode: undefined } });
    const decision = decide(claim, { candidates: [near], policy: { ...DEFAULT_POLICY, autoApprove: true } });
    expect(decision.result.status).toBe('pending');
    expect(decision.result.conflicts).toEqual([
      expect.objectContaining({ strength: 'possible', matchedOn: 'name' }),
    ]);
    expect(decision.result.warnings.map((w) => w.code)).toEqual(['match.possible']);
  });

  it('[R25] under autoApprove a new customer is protected at once for 3 months', () => {
    const decision = decide(admitted(), { policy: { ...DEFAULT_POLICY, autoApprove: true } });
    expect(decision.result).toMatchObject({
      status: 'protected',
      protectedFrom: TODAY,
      protectedUntil: '2026-06-09',
    });
    expect(decision.save?.record).toMatchObject({ approvedAt: RECEIVED });
    expect(decision.save?.record.reviewDueBy).toBeUndefined();
  });

  it('[R29][R21] under autoApprove a first-visit window already over is left pending for a reviewer, saying why', () => {
    const policy: Policy = { ...presetPolicy('channel'), autoApprove: true };
    // Visit 2026-01-20: one month, 2026-01-20 … 2026-02-19, over before today (2026-03-10).
    const over = decide(admitted({ firstVisitAt: '2026-01-20' }, SALES, { policy }), { policy });
    expect(over.result.status).toBe('pending');
    expect(over.result.protectedUntil).toBeUndefined();
    expect(over.save?.record).toMatchObject({ status: 'pending', reviewDueBy: expect.any(String) });
    expect(over.save?.record.approvedAt).toBeUndefined();
    expect(over.result.warnings.find((w) => w.code === 'registration.protection_over')).toMatchObject({
      field: 'firstVisitAt',
      message: expect.stringContaining('2026-02-19'),
      messageEn: expect.stringContaining('2026-02-19'),
    });
    // Its last day today still protects: granted at once, through that day.
    const lastDay = decide(admitted({ firstVisitAt: '2026-02-11' }, SALES, { policy }), { policy });
    expect(lastDay.result).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-02-11',
      protectedUntil: '2026-03-10',
    });
  });

  it('[R29] under autoApprove a first visit further ahead than one protection period waits for a reviewer, saying why', () => {
    const policy: Policy = { ...presetPolicy('channel'), autoApprove: true };
    // A month granted today would run 2026-03-10 … 2026-04-09. A visit planned for 2026-09-01
    // would hold the customer from today until 2026-09-30: half a year before the visit.
    const far = decide(admitted({ firstVisitAt: '2026-09-01' }, SALES, { policy }), { policy });
    expect(far.result.status).toBe('pending');
    expect(far.result.protectedUntil).toBeUndefined();
    expect(far.save?.record).toMatchObject({ status: 'pending', reviewDueBy: expect.any(String) });
    expect(far.save?.record.approvedAt).toBeUndefined();
    expect(far.result.warnings.find((w) => w.code === 'registration.visit_far_ahead')).toMatchObject({
      field: 'firstVisitAt',
      message: expect.stringContaining('2026-04-09'),
      messageEn: expect.stringContaining('2026-09-30'),
    });
    // A visit on that last day is near enough: granted at once, counted from the visit.
    const near = decide(admitted({ firstVisitAt: '2026-04-09' }, SALES, { policy }), { policy });
    expect(near.result).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-04-09',
      protectedUntil: '2026-05-08',
    });
    expect(near.result.warnings.map((w) => w.code)).not.toContain('registration.visit_far_ahead');
  });

  it('[R30][R21] under autoApprove an administrator’s backdated row whose registration window is over waits for a reviewer', () => {
    const policy: Policy = { ...presetPolicy('sales-office'), autoApprove: true };
    // Registered 2025-12-01 (backdated): two months, 2025-12-01 … 2026-01-31, over before 2026-03-10.
    const claim = admitted({ registeredAt: '2025-12-01' }, ADMIN, { policy });
    const decision = decide(claim, { policy, actor: ADMIN });
    expect(decision.result.status).toBe('pending');
    expect(decision.result.warnings.find((w) => w.code === 'registration.protection_over')).toMatchObject({
      field: 'registeredAt',
      message: expect.stringContaining('2026-01-31'),
      messageEn: expect.stringContaining('(R30, R21)'),
    });
  });

  describe('[R18] territory', () => {
    const policy: Policy = {
      ...DEFAULT_POLICY,
      autoApprove: true,
      territory: { enabled: true, regionTeams: { 上海: '华东一部', 北京: '华北部' } },
    };

    it('[R18] a customer in another team’s region is refused, naming the region', () => {
      const decision = decide(admitted({ region: '北京' }), { policy });
      expect(decision.save).toBeUndefined();
      expect(decision.result.status).toBe('rejected');
      expect(decision.result.errors[0]).toMatchObject({ code: 'territory.foreign', field: 'region' });
    });

    it('[R18] with a claimed exception it is saved for a reviewer to approve (never auto-approved)', () => {
      const decision = decide(admitted({ region: '北京', territoryException: 'proxy-purchase' }), { policy });
      expect(decision.result.status).toBe('pending');
      expect(decision.result.warnings.map((w) => w.code)).toEqual(['territory.exception']);
    });

    it('[R18] a region written in full (北京市, 北京市朝阳区) or inside a team’s province belongs to that team', () => {
      const withProvince: Policy = {
        ...policy,
        territory: {
          enabled: true,
          regionTeams: { ...policy.territory.regionTeams, 广东: '华南部', 深圳: '深圳部' },
        },
      };
      for (const region of ['北京市', '北京市朝阳区', '广东省', '广东省广州市', '广州', '深圳市']) {
        const decision = decide(admitted({ region }), { policy: withProvince });
        expect(decision.result.status, region).toBe('rejected');
        expect(decision.result.errors[0], region).toMatchObject({ code: 'territory.foreign' });
      }
      // The narrowest team's region decides: 深圳 is 深圳部's, though 广东 is 华南部's.
      expect(
        decide(admitted({ region: '广东省深圳市', team: '深圳部' }), { policy: withProvince }).result.status,
      ).toBe('protected');
      // Its own region in full, and a region no team owns, pass.
      expect(decide(admitted({ region: '上海市' }), { policy }).result.status).toBe('protected');
      expect(decide(admitted({ region: '海外' }), { policy }).result.status).toBe('protected');
    });

    it('[R18] a region that is a name of an object’s property (toString) is owned by no team', () => {
      expect(decide(admitted({ region: 'toString' }), { policy }).result.status).toBe('protected');
    });

    it('[R18] the team is the registrant’s account’s, then the row’s, then the submitter’s own', () => {
      expect(decide(admitted({ region: '北京' }), { policy, registrantTeam: '华北部' }).result.status).toBe(
        'protected',
      );
      expect(decide(admitted({ region: '北京', team: '华北部' }), { policy }).result.status).toBe(
        'protected',
      );
      // A reviewer registering for someone without an account or a team: no team, no territory check.
      const forOther = admitted({ region: '北京', registrant: '周杰' }, REVIEWER);
      expect(decide(forOther, { policy, actor: REVIEWER }).result.status).toBe('protected');
    });
  });

  describe('history migration (administrator)', () => {
    it('[R25] approved in the past: protected from the approval, or expired once its window has passed', () => {
      const recent = admitted(
        { registrant: '周杰', registeredAt: '2026-02-01', approvedAt: '2026-02-03' },
        ADMIN,
        { history: true },
      );
      const decision = decide(recent, { actor: ADMIN });
      expect(decision.save?.record).toMatchObject({
        status: 'protected',
        approvedAt: '2026-02-02T16:00:00.000Z',
        protectedFrom: '2026-02-03',
        protectedUntil: '2026-05-02',
        history: [{ action: 'migrate', to: 'protected' }],
      });
      const old = admitted({ registrant: '周杰', registeredAt: '2025-06-01' }, ADMIN, { history: true });
      expect(decide(old, { actor: ADMIN }).result.status).toBe('expired');
    });

    it('the history’s own status is kept: signed and terminated with their approval date, pending as it is', () => {
      const signed = admitted({ registrant: '周杰', registeredAt: '2025-06-01', status: 'signed' }, ADMIN);
      expect(decide(signed, { actor: ADMIN }).save?.record).toMatchObject({
        status: 'signed',
        approvedAt: '2025-05-31T16:00:00.000Z',
      });
      const pending = admitted({ registrant: '周杰', registeredAt: '2026-03-09', status: 'pending' }, ADMIN);
      expect(decide(pending, { actor: ADMIN }).result.status).toBe('pending');
    });

    it('[R17][R21] a migrated claim inside someone’s protection on its own day lost then: kept as a queued conflict', () => {
      const claim = admitted({ registrant: '周杰', registeredAt: '2026-01-15' }, ADMIN, { history: true });
      expect(claim.protectingOn).toBe('2026-01-15');
      const holder = stored('BB-2025-000100', {
        registrant: '李娜',
        status: 'expired',
        claimedAt: '2025-10-31T16:00:00.000Z',
        protectedFrom: '2025-11-01',
        protectedUntil: '2026-01-31',
      });
      const decision = decide(claim, { candidates: [holder], actor: ADMIN });
      expect(decision.save?.record).toMatchObject({ status: 'conflict', conflictKind: 'queued' });
      expect(decision.save?.record.blockedBy).toBeUndefined();
      expect(decision.result.conflicts.map((c) => c.registrationNo)).toEqual(['BB-2025-000100']);
    });
  });
});

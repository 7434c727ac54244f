import { describe, expect, it } from 'vitest';
import { identityKeys } from '../../core/matching.js';
import { DEFAULT_POLICY, resolvePolicy } from '../../core/policy.js';
import { capDecision, poolCooldown, poolListItem, type PoolEntry } from '../../core/pool.js';
import {
  admitRow,
  decideRegistration,
  type ActorFacts,
  type Claim,
} from '../../core/registrationDecision.js';
import { parseGrade, parseRow } from '../../core/row.js';
import { followUpWayOf, followUpWayOfNote, type SubmissionRow } from '../../core/schema.js';
import { detectHeader, matchHeaderText } from '../../core/headers.js';
import { annotateRow } from '../../core/annotation.js';
import { validationFor } from '../../core/sheetPrepare.js';
import { outcomeOfState } from '../../core/sheetResults.js';

const RECEIVED = '2026-04-10T02:00:00.000Z';
const SALES: ActorFacts = { name: '王磊', role: 'sales', team: '华东一部' };
const ADMIN: ActorFacts = { name: '管理员', role: 'admin' };
const ROW: SubmissionRow = {
  clientRowId: 1,
  customerName: '上海华信科技有限公司',
  customerType: '企业',
  creditCode: '91310115037061499U',
  source: '展会',
  region: '上海',
};

function claimOf(actor: ActorFacts = SALES, fields: Partial<SubmissionRow> = {}): Claim {
  const admission = admitRow({ ...ROW, ...fields }, { actor, policy: DEFAULT_POLICY, receivedAt: RECEIVED });
  if (!admission.ok) throw new Error(JSON.stringify(admission.result.errors));
  return admission.claim;
}

function decide(claim: Claim, extra: Partial<Parameters<typeof decideRegistration>[0]> = {}) {
  return decideRegistration({
    claim,
    actor: SALES,
    policy: DEFAULT_POLICY,
    identity: identityKeys(claim.registration),
    registrantTeam: undefined,
    bans: [],
    candidates: [],
    ...extra,
  });
}

describe('grade column (R42)', () => {
  it('[R42] 客户等级 / 等级 / 客戶等級 / Grade map to the grade field', () => {
    for (const header of ['客户等级', '等级', '客戶等級', 'Grade', 'Customer grade']) {
      expect(matchHeaderText(header)[0]?.field, header).toBe('grade');
      const detection = detectHeader([
        ['客户名称', '联系电话', header, '客户来源'],
        ['上海华信科技有限公司', '13812345678', 'A', '展会'],
      ]);
      expect(detection?.columns[2]?.field, header).toBe('grade');
    }
  });

  it('[R42] A, a, Ａ, A类, B级, C类客户 read as grades; anything else is grade.invalid naming the field', () => {
    expect(['A', 'a', 'Ａ', 'A类', 'B级', 'C类客户', ' b '].map(parseGrade)).toEqual([
      'A',
      'A',
      'A',
      'A',
      'B',
      'C',
      'B',
    ]);
    expect(parseGrade('D')).toBeUndefined();
    const parsed = parseRow(
      {
        customerName: '上海华信科技有限公司',
        creditCode: '91310115037061499U',
        source: '展会',
        registrant: '王磊',
        grade: '重点',
      },
      { referenceDate: '2026-04-10', policy: DEFAULT_POLICY },
    );
    expect(parsed.errors).toEqual([expect.objectContaining({ code: 'grade.invalid', field: 'grade' })]);
    const ok = parseRow(
      {
        customerName: '上海华信科技有限公司',
        creditCode: '91310115037061499U',
        source: '展会',
        registrant: '王磊',
        grade: 'b类',
      },
      { referenceDate: '2026-04-10', policy: DEFAULT_POLICY },
    );
    expect(ok.registration?.grade).toBe('B');
  });

  it('[R42] Prepare offers the grades as a drop-down (a warning, since core reads A类 too)', () => {
    expect(validationFor('grade', 'H2')).toEqual({
      rule: { list: { inCellDropDown: true, source: 'A,B,C' } },
      alert: expect.objectContaining({ style: 'Warning', title: '客户等级' }),
    });
  });

  it('[R31][R42] Refresh writes the next visit’s due day and the lapse day into 提示', () => {
    const outcome = outcomeOfState(5, {
      no: 'BB-2026-000001',
      status: 'protected',
      protectedUntil: '2026-06-01',
      service: { nextDue: '2026-03-11', lapsesOn: '2026-03-12' },
    });
    expect(annotateRow(outcome.annotation).cells.hint).toBe(
      '下次跟进截止 2026-03-11，未跟进将于 2026-03-12 失效回到公海',
    );
    const plain = outcomeOfState(5, {
      no: 'BB-2026-000001',
      status: 'protected',
      protectedUntil: '2026-06-01',
    });
    expect(annotateRow(plain.annotation).cells.hint).toBe('');
  });

  it('[R43] ways: 电话/上门/微信/邮件/其他 and English aliases', () => {
    expect(['电话', 'phone', 'Visit', 'WeChat', 'email', 'other', '其它'].map(followUpWayOf)).toEqual([
      '电话',
      '电话',
      '上门',
      '微信',
      '邮件',
      '其他',
      '其他',
    ]);
    expect(followUpWayOf('fax')).toBeUndefined();
    // 我的报备 has only a 说明 column: the note says how, else 其他.
    expect(
      ['上门拜访', '电话沟通需求', '微信发了报价', '邮件寄送资料', '送样品'].map(followUpWayOfNote),
    ).toEqual(['上门', '电话', '微信', '邮件', '其他']);
  });
});

describe('pool cooldown (R44)', () => {
  it('[R44] lapsed 2026-03-06 with 30 days: the former holder may claim from 2026-04-05, barred through 04-04', () => {
    expect(poolCooldown('2026-03-06', { poolCooldownDays: 30 })).toEqual({
      mayClaimFrom: '2026-04-05',
      banUntil: '2026-04-04',
    });
  });

  it('[R44] a cooldown of 0 days bars nobody', () => {
    expect(poolCooldown('2026-03-06', { poolCooldownDays: 0 })).toEqual({
      mayClaimFrom: '2026-03-06',
      banUntil: null,
    });
  });

  it('[R44] the former holder inside the cooldown is refused with pool.cooldown and the day they may claim again', () => {
    const claim = claimOf();
    const decision = decide(claim, {
      bans: [
        {
          identity: identityKeys(claim.registration),
          until: '2026-04-30',
          poolCooldown: true,
        },
      ],
    });
    expect(decision.save).toBeUndefined();
    expect(decision.result.status).toBe('rejected');
    expect(decision.result.errors).toEqual([
      expect.objectContaining({ code: 'pool.cooldown', details: { mayClaimFrom: '2026-05-01' } }),
    ]);
    expect(decision.result.errors[0]!.messageEn).toContain('2026-05-01');
  });

  it('[R44] a pooled customer: the row is saved as a normal registration, told "in the pool since", history says fromPool', () => {
    const decision = decide(claimOf(), {
      pooled: [{ no: 'BB-2026-000001', since: '2026-03-06T01:00:00.000Z' }],
    });
    expect(decision.result.status).toBe('pending');
    expect(decision.result.conflicts).toEqual([]);
    expect(decision.result.warnings).toEqual([
      expect.objectContaining({ code: 'pool.available', details: { pooledSince: '2026-03-06' } }),
    ]);
    expect(decision.result.warnings[0]!.message).toContain('公海');
    expect(decision.save?.record.history[0]?.details).toEqual({ fromPool: 'BB-2026-000001' });
  });

  it('[R44] the listing shows name, type, region, grade, last service day and since when — nothing R3 hides', () => {
    const entry: PoolEntry = {
      no: 'BB-2026-000001',
      customerName: '上海华信科技有限公司',
      customerType: 'enterprise',
      region: '上海',
      grade: 'B',
      lastServiceDay: '2026-02-20',
      since: '2026-03-06T01:00:00.000Z',
      rule: 'R31',
      formerHolder: '王磊',
      formerHolderMayClaimFrom: '2026-04-05',
    };
    expect(poolListItem(entry)).toEqual({
      poolNo: 'BB-2026-000001',
      customerName: '上海华信科技有限公司',
      customerType: 'enterprise',
      region: '上海',
      grade: 'B',
      lastServiceDay: '2026-02-20',
      pooledSince: '2026-03-06',
    });
  });
});

describe('cap (R45)', () => {
  const capped = resolvePolicy({ maxActivePerRegistrant: 5 });

  it('[R45] no cap by default; below the cap passes', () => {
    expect(capDecision(DEFAULT_POLICY, 10_000, false)).toEqual({ kind: 'ok' });
    expect(capDecision(capped, 4, false)).toEqual({ kind: 'ok' });
  });

  it('[R45] at the cap the row is rejected with registration.cap naming the cap and the count', () => {
    const decision = decide(claimOf(), { policy: capped, activeCount: 5 });
    expect(decision.save).toBeUndefined();
    expect(decision.result.status).toBe('rejected');
    expect(decision.result.errors).toEqual([
      expect.objectContaining({ code: 'registration.cap', details: { cap: 5, count: 5 } }),
    ]);
    expect(decision.result.errors[0]!.message).toContain('5');
  });

  it('[R45] an administrator migrating history is exempt, and the row says so', () => {
    const claim = claimOf(ADMIN, { registrant: '王磊', approvedAt: '2026-01-05', status: 'protected' });
    const decision = decide(claim, { actor: ADMIN, policy: capped, activeCount: 7 });
    expect(decision.save).toBeDefined();
    expect(decision.result.warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'registration.cap_exempt', details: { cap: 5, count: 7 } }),
      ]),
    );
  });

  it('[R45] the registrant’s own duplicate is still answered as a duplicate, not refused by the cap', () => {
    const claim = claimOf();
    const mine = {
      no: 'BB-2026-000009',
      status: 'protected' as const,
      registration: { registrant: '王磊' },
      claimedAt: '2026-03-01T02:00:00.000Z',
      protectedFrom: '2026-03-02',
      protectedUntil: '2026-06-01',
    };
    const decision = decide(claim, {
      policy: capped,
      activeCount: 5,
      candidates: [
        { record: mine, status: 'protected', match: { strength: 'exact', matchedOn: 'creditCode' } },
      ] as never,
    });
    expect(decision.result.status).toBe('duplicate');
  });
});

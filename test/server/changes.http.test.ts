/**
 * Changing a filed registration over real HTTP against a real service (issue 15): PATCH with
 * If-Match, the ETag every record response carries, history and audit (R36, R37), identity changes
 * matched again (R3), version conflicts between two tabs, late changes (R4), and the correction and
 * resubmission of a rejected registration (R13).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeResponse, RecordView } from '../../core/responses.js';
import type { RowResult } from '../../core/schema.js';
import { companyNameFor, creditCodeFor, enterpriseRow, phoneFor } from '../support/customers.js';
import {
  startTestService,
  type ApiResponse,
  type ErrorBody,
  type TestService,
} from '../support/testService.js';

let svc: TestService;
/** 华东一部: sales Wang and Li, reviewer Zhang. 华南二部: sales Zhou. */
const t = { wang: '', li: '', zhou: '', zhang: '', admin: '' };
/** Customers numbered per test so no two tests share one. */
let nextCustomer = 100;

beforeAll(async () => {
  svc = await startTestService();
  t.admin = svc.adminToken;
  t.wang = await svc.user('王磊', 'sales', '华东一部');
  t.li = await svc.user('李娜', 'sales', '华东一部');
  t.zhou = await svc.user('周杰', 'sales', '华南二部');
  t.zhang = await svc.user('张敏', 'reviewer', '华东一部');
});

afterAll(async () => {
  await svc.close();
});

async function register(token: string, n: number, extra: Record<string, unknown> = {}): Promise<RowResult> {
  const res = await svc
    .api(token)
    .post<{ results: RowResult[] }>('/api/registrations', { rows: [enterpriseRow(n, extra)] });
  expect(res.status).toBe(200);
  return res.body.results[0]!;
}

async function read(token: string, no: string): Promise<ApiResponse<RecordView>> {
  const res = await svc.api(token).get<RecordView>(`/api/registrations/${no}`);
  expect(res.status).toBe(200);
  return res;
}

function patch<T = ChangeResponse>(
  token: string,
  no: string,
  body: unknown,
  etag: string | undefined,
): Promise<ApiResponse<T>> {
  return svc
    .api(token)
    .patch<T>(`/api/registrations/${no}`, body, etag === undefined ? {} : { 'If-Match': etag });
}

describe('ETag on every record response', () => {
  it('GET one, list items and action responses carry the version as an entity tag', async () => {
    const { registrationNo: no } = await register(t.wang, nextCustomer++);
    const one = await read(t.wang, no!);
    expect(one.headers.get('etag')).toBe('"1"');
    expect(one.body).toMatchObject({ version: 1, etag: '"1"' });
    const list = await svc.api(t.wang).get<{ items: RecordView[] }>(`/api/registrations?no=${no}`);
    expect(list.body.items[0]).toMatchObject({ no, version: 1, etag: '"1"' });
    const followUp = await svc
      .api(t.wang)
      .post<RecordView>(`/api/registrations/${no}/follow-ups`, { way: '电话', note: '电话沟通' });
    expect(followUp.status).toBe(201);
    expect(followUp.headers.get('etag')).toBe('"2"');
    expect(followUp.body.etag).toBe('"2"');
    const transfer = await svc
      .api(t.zhang)
      .post<RecordView>(`/api/registrations/${no}/transfer`, { to: '李娜' });
    // A hand-over is a change too: the tag moves.
    expect(transfer.headers.get('etag')).toBe('"3"');
  });
});

describe('PATCH /api/registrations/:no', () => {
  it('[R37][R36] non-identity fields apply at once; history holds who, when, field, from → to; the audit names fields only', async () => {
    const n = nextCustomer++;
    const { registrationNo: no } = await register(t.wang, n, { notes: '初次拜访' });
    const before = await read(t.wang, no!);
    const res = await patch(
      t.wang,
      no!,
      {
        changes: { expectedAmount: '80万', notes: '客户已确认预算', need: '仓储系统' },
        reason: '拜访后补充',
      },
      before.headers.get('etag')!,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    expect(res.body.changed).toEqual(['need', 'expectedAmount', 'notes']);
    expect(res.body.record).toMatchObject({ version: 2, etag: '"2"', claimedAt: before.body.claimedAt });
    expect(res.body.record.registration).toMatchObject({ expectedAmount: 800_000, notes: '客户已确认预算' });
    const changes = res.body.record.history.filter((h) => h.action === 'change');
    expect(changes).toHaveLength(3);
    expect(changes[2]).toEqual({
      at: svc.now().toISOString(),
      by: '王磊',
      action: 'change',
      reason: '拜访后补充',
      details: { field: 'notes', from: '初次拜访', to: '客户已确认预算', changedOn: '2026-11-23' },
    });
    // The same history on a later read.
    expect((await read(t.wang, no!)).body.history).toEqual(res.body.record.history);

    const audit = await svc
      .api(t.admin)
      .get<{ items: { action: string; details?: Record<string, unknown> }[] }>(`/api/audit?record=${no}`);
    const entry = audit.body.items.find((a) => a.action === 'registration.change');
    expect(entry?.details).toEqual({ fields: 'need,expectedAmount,notes', identity: false, late: false });
    const auditText = JSON.stringify(audit.body);
    for (const value of ['客户已确认预算', '仓储系统', '800000', '初次拜访']) {
      expect(auditText).not.toContain(value);
      expect(svc.logText()).not.toContain(value);
    }
  });

  it('[R3] an identity change onto another registrant’s customer is refused with the conflict view and nothing of theirs', async () => {
    const theirs = nextCustomer++;
    const other = await register(t.zhou, theirs, { contactName: '赵小红', email: 'zhao@example.com' });
    const mine = nextCustomer++;
    const { registrationNo: no } = await register(t.wang, mine);
    const res = await patch<ErrorBody>(
      t.wang,
      no!,
      { changes: { creditCode: creditCodeFor(theirs) }, reason: '更正信用代码' },
      '"1"',
    );
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('change.conflict');
    expect(res.body.error.details?.['conflicts']).toEqual([
      {
        registrationNo: other.registrationNo,
        status: 'pending',
        holder: { name: '周杰', team: '华南二部' },
        registeredAt: expect.any(String),
        matchedOn: 'creditCode',
        strength: 'exact',
      },
    ]);
    const text = JSON.stringify(res.body);
    for (const secret of [companyNameFor(theirs), phoneFor(theirs), '赵小红', 'zhao@example.com']) {
      expect(text).not.toContain(secret);
    }
    // Nothing changed.
    const now = await read(t.wang, no!);
    expect(now.body.version).toBe(1);
    expect(now.body.registration.creditCode).toBe(creditCodeFor(mine));
  });

  it('onto the holder’s own other registration → refused as a duplicate, naming it', async () => {
    const mine = nextCustomer++;
    const first = await register(t.wang, mine);
    const { registrationNo: no } = await register(t.wang, nextCustomer++);
    const res = await patch<ErrorBody>(
      t.wang,
      no!,
      {
        changes: { creditCode: creditCodeFor(mine), customerName: companyNameFor(mine) },
        reason: '同一客户',
      },
      '"1"',
    );
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('change.duplicate');
    expect(res.body.error.message).toContain(first.registrationNo!);
    expect(res.body.error.details?.['registrationNo']).toBe(first.registrationNo);
  });

  it('a change that turns a possible match exact (the same contact on a shared phone) is refused', async () => {
    // Without credit codes (two different codes are two legal entities: never more than possible).
    const phone = '13700001234';
    await register(t.zhou, nextCustomer++, {
      creditCode: null,
      address: '南京西路1号',
      contactPhone: phone,
      contactName: '钱多多',
    });
    const { registrationNo: no, warnings } = await register(t.wang, nextCustomer++, {
      creditCode: null,
      address: '淮海中路2号',
      contactPhone: phone,
      contactName: '孙悟空',
    });
    expect(warnings.map((w) => w.code)).toContain('match.possible');
    const res = await patch<ErrorBody>(
      t.wang,
      no!,
      { changes: { contactName: '钱多多' }, reason: '联系人更正' },
      '"1"',
    );
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('change.conflict');
    expect(res.body.error.details?.['conflicts']).toMatchObject([{ matchedOn: 'phone', strength: 'exact' }]);
  });

  it('[R3] an applied identity change is matched by its new keys, no longer by its old', async () => {
    const oldCustomer = nextCustomer++;
    const newCustomer = nextCustomer++;
    const { registrationNo: no } = await register(t.wang, oldCustomer);
    const res = await patch(
      t.wang,
      no!,
      {
        changes: {
          customerName: companyNameFor(newCustomer),
          creditCode: creditCodeFor(newCustomer),
          contactPhone: phoneFor(newCustomer),
        },
        reason: '客户名称写错',
      },
      '"1"',
    );
    expect(res.status).toBe(200);
    expect(res.body.changed).toEqual(['customerName', 'creditCode', 'contactPhone']);
    const check = async (n: number) =>
      (await svc.api(t.li).post<{ results: RowResult[] }>('/api/check', { rows: [enterpriseRow(n)] })).body
        .results[0]!;
    expect((await check(newCustomer)).conflicts.map((c) => c.registrationNo)).toEqual([no]);
    expect((await check(oldCustomer)).conflicts).toEqual([]);
    // Reviewers of the team are told the customer of a registration changed (field names only).
    const notes = await svc
      .api(t.zhang)
      .get<{ items: { type: string; recordNo: string; details: Record<string, unknown> }[] }>(
        '/api/notifications',
      );
    expect(notes.body.items.find((x) => x.type === 'changed' && x.recordNo === no)?.details).toMatchObject({
      fields: 'customerName,creditCode,contactPhone',
      identity: true,
    });
  });

  it('two tabs editing the same record: the second gets 412 with the current record and its ETag', async () => {
    const { registrationNo: no } = await register(t.wang, nextCustomer++);
    const tabA = (await read(t.wang, no!)).headers.get('etag')!;
    const tabB = (await read(t.wang, no!)).headers.get('etag')!;
    const a = await patch(t.wang, no!, { changes: { notes: 'A 的备注' }, reason: 'A' }, tabA);
    expect(a.status).toBe(200);
    const b = await patch<ErrorBody>(t.wang, no!, { changes: { notes: 'B 的备注' }, reason: 'B' }, tabB);
    expect(b.status).toBe(412);
    expect(b.body.error.code).toBe('registration.version_mismatch');
    expect(b.headers.get('etag')).toBe('"2"');
    const current = b.body.error.details?.['record'] as RecordView;
    expect(current).toMatchObject({ no, version: 2, etag: '"2"' });
    expect(current.registration.notes).toBe('A 的备注');
    expect(b.body.error.details).toMatchObject({ version: 2, etag: '"2"' });
    // Refreshed, the second tab's change goes through.
    const retry = await patch(t.wang, no!, { changes: { notes: 'B 的备注' }, reason: 'B' }, '"2"');
    expect(retry.status).toBe(200);
    expect(retry.body.record.registration.notes).toBe('B 的备注');
  });

  it('without If-Match → 428; a malformed one → 400 naming the header', async () => {
    const { registrationNo: no } = await register(t.wang, nextCustomer++);
    const missing = await patch<ErrorBody>(t.wang, no!, { changes: { notes: 'x' }, reason: 'x' }, undefined);
    expect(missing.status).toBe(428);
    expect(missing.body.error.code).toBe('registration.version_required');
    for (const bad of ['*', 'W/"1"', '"1', 'abc']) {
      const res = await patch<ErrorBody>(t.wang, no!, { changes: { notes: 'x' }, reason: 'x' }, bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.field).toBe('If-Match');
    }
    expect((await patch(t.wang, no!, { changes: { notes: 'x' }, reason: 'x' }, '1')).status).toBe(200);
  });

  it('[R2] bad values are named by field; unknown and fixed fields are refused', async () => {
    const { registrationNo: no } = await register(t.wang, nextCustomer++);
    const phone = await patch<ErrorBody>(
      t.wang,
      no!,
      { changes: { contactPhone: '12345' }, reason: 'x' },
      '"1"',
    );
    expect(phone.status).toBe(422);
    expect(phone.body.error).toMatchObject({ code: 'phone.invalid', field: 'contactPhone' });
    const unknown = await patch<ErrorBody>(t.wang, no!, { changes: { colour: 'red' }, reason: 'x' }, '"1"');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('changes.colour');
    const empty = await patch<ErrorBody>(t.wang, no!, { changes: {}, reason: 'x' }, '"1"');
    expect(empty.status).toBe(400);
    const noReason = await patch<ErrorBody>(t.wang, no!, { changes: { notes: 'x' } }, '"1"');
    expect(noReason.body.error.field).toBe('reason');
    const fixed = await patch<ErrorBody>(
      t.wang,
      no!,
      { changes: { registeredAt: '2026-01-01' }, reason: '提前' },
      '"1"',
    );
    expect(fixed.status).toBe(422);
    expect(fixed.body.error).toMatchObject({ code: 'change.field_fixed', field: 'registeredAt' });
    const several = await patch<ErrorBody>(
      t.wang,
      no!,
      { changes: { contactPhone: '12345', email: 'nope' }, reason: 'x' },
      '"1"',
    );
    expect((several.body.error.details?.['errors'] as { field: string }[]).map((e) => e.field)).toEqual([
      'contactPhone',
      'email',
    ]);
    expect((await read(t.wang, no!)).body.version).toBe(1);
  });

  it('[R4] a change recorded more than 3 working days after it happened is applied and flagged late', async () => {
    const { registrationNo: no } = await register(t.wang, nextCustomer++);
    // Monday 16 November + 3 working days = Thursday 19 November; recorded Monday 23 November.
    const res = await patch(
      t.wang,
      no!,
      { changes: { contactTitle: '采购经理' }, reason: '联系人职务变化', changedOn: '2026-11-16' },
      '"1"',
    );
    expect(res.status).toBe(200);
    expect(res.body.warnings.map((w) => w.code)).toEqual(['change.late']);
    expect(res.body.record.history.at(-1)?.details).toMatchObject({ late: true, changedOn: '2026-11-16' });
  });

  it('[R4] a changedOn that is no calendar day (30 February, month 13, year 1) → 400 naming changedOn, nothing saved', async () => {
    const { registrationNo: no } = await register(t.wang, nextCustomer++);
    for (const changedOn of ['2026-02-30', '2026-13-01', '2026-00-10', '0001-01-01']) {
      const res = await patch<ErrorBody>(
        t.wang,
        no!,
        { changes: { notes: '补记' }, reason: '补记', changedOn },
        '"1"',
      );
      expect(res.status, changedOn).toBe(400);
      expect(res.body.error, changedOn).toMatchObject({ code: 'request.invalid', field: 'changedOn' });
      expect(res.body.error.message, changedOn).toContain('日期');
      expect(res.body.error.messageEn, changedOn).toContain('date');
    }
    expect((await read(t.wang, no!)).body.version).toBe(1);
  });

  it('a reviewer of the team changes a registration and the holder is told', async () => {
    const { registrationNo: no } = await register(t.li, nextCustomer++);
    const res = await patch(t.zhang, no!, { changes: { industry: '物流' }, reason: '核实后更正' }, '"1"');
    expect(res.status).toBe(200);
    const notes = await svc
      .api(t.li)
      .get<{ items: { type: string; recordNo: string; details: Record<string, unknown> }[] }>(
        '/api/notifications',
      );
    expect(notes.body.items.find((x) => x.type === 'changed' && x.recordNo === no)?.details).toMatchObject({
      fields: 'industry',
      by: '张敏',
    });
  });

  it('[R39] nothing is deleted: there is no DELETE route', async () => {
    const { registrationNo: no } = await register(t.wang, nextCustomer++);
    const res = await fetch(`${svc.url}/api/registrations/${no}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${t.admin}` },
    });
    expect(res.status).toBe(404);
    expect((await read(t.wang, no!)).body.status).toBe('pending');
  });
});

describe('[R13] correcting and resubmitting a rejected registration', () => {
  it('keeps its number, history and claim time; the review deadline restarts; reviewers are told', async () => {
    const n = nextCustomer++;
    const { registrationNo: no } = await register(t.wang, n, { creditCode: null, address: '上海市某路' });
    const registered = await read(t.wang, no!);
    const rejected = await svc
      .api(t.zhang)
      .post<RecordView>(`/api/registrations/${no}/review`, { decision: 'reject', reason: '请补充信用代码' });
    expect(rejected.body.status).toBe('rejected');
    svc.setNow('2026-11-30T02:00:00.000Z'); // a week later
    try {
      const corrected = await patch(
        t.wang,
        no!,
        { changes: { creditCode: creditCodeFor(n) }, reason: '补充信用代码' },
        rejected.headers.get('etag')!,
      );
      expect(corrected.status).toBe(200);
      expect(corrected.body.record.status).toBe('rejected');
      const res = await svc.api(t.wang).post<ChangeResponse>(
        `/api/registrations/${no}/resubmit`,
        { reason: '已补充' },
        {
          'If-Match': corrected.body.record.etag,
        },
      );
      expect(res.status).toBe(200);
      const record = res.body.record;
      expect(res.headers.get('etag')).toBe(record.etag);
      expect(record).toMatchObject({ no, status: 'pending', claimedAt: registered.body.claimedAt });
      // Monday 30 November + 7 working days = Wednesday 9 December.
      expect(record.reviewDueBy).toBe('2026-12-09');
      expect(record.reasonCode).toBeUndefined();
      expect(record.history.map((h) => h.action)).toEqual([
        'register',
        'review.reject',
        'change',
        'resubmit',
      ]);
      const notes = await svc
        .api(t.zhang)
        .get<{ items: { type: string; recordNo: string; details: Record<string, unknown> }[] }>(
          '/api/notifications',
        );
      expect(
        notes.body.items.find((x) => x.type === 'resubmitted' && x.recordNo === no)?.details,
      ).toMatchObject({
        reviewDueBy: '2026-12-09',
      });
      // Pending now: a second resubmission is refused.
      const again = await svc.api(t.wang).post<ErrorBody>(`/api/registrations/${no}/resubmit`, {});
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('resubmit.not_rejected');
      // A stale If-Match is refused as for a change.
      const stale = await svc
        .api(t.wang)
        .post<ErrorBody>(`/api/registrations/${no}/resubmit`, {}, { 'If-Match': '"1"' });
      expect(stale.status).toBe(412);
    } finally {
      svc.setNow('2026-11-23T02:00:00.000Z');
    }
  });

  it('[R12] not while the competitor it lost to still holds: the objection is the way', async () => {
    const n = nextCustomer++;
    const winner = await register(t.li, n);
    const loser = await register(t.wang, n);
    expect(loser.status).toBe('conflict');
    await svc
      .api(t.zhang)
      .post(`/api/registrations/${winner.registrationNo}/review`, { decision: 'approve', reason: '先报备' });
    const lost = await read(t.wang, loser.registrationNo!);
    expect(lost.body).toMatchObject({ status: 'rejected', reasonCode: 'conflict.lost' });
    const res = await svc
      .api(t.wang)
      .post<ErrorBody>(`/api/registrations/${loser.registrationNo}/resubmit`, {});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('resubmit.conflict_lost');
    expect(res.body.error.details?.['winner']).toBe(winner.registrationNo);
    // Correcting it onto another customer does not open that door: the decision it lost stands.
    const elsewhere = nextCustomer++;
    const moved = await patch(
      t.wang,
      loser.registrationNo!,
      {
        changes: { customerName: companyNameFor(elsewhere), creditCode: creditCodeFor(elsewhere) },
        reason: '改报',
      },
      lost.headers.get('etag')!,
    );
    expect(moved.status).toBe(200);
    const still = await svc
      .api(t.wang)
      .post<ErrorBody>(`/api/registrations/${loser.registrationNo}/resubmit`, {});
    expect(still.body.error.code).toBe('resubmit.conflict_lost');
  });
});

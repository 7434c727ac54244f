/**
 * Checking and registering customers over real HTTP (issue 3, Semantics): what each kind of row
 * becomes, what a competitor may see, request validation, and listing and reading registrations.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addWorkdays } from '../../core/calendar.js';
import type { Policy } from '../../core/policy.js';
import type { RowResult } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';

interface Results {
  results: RowResult[];
}
interface List {
  items: RecordView[];
  total: number;
}

/** Monday 2026-11-23, 10:00 in Shanghai. */
const MONDAY = '2026-11-23T02:00:00.000Z';

let svc: TestService;
let wang: string;
let li: string;
let reviewer: string;

beforeEach(async () => {
  svc = await startTestService({ now: MONDAY });
  wang = await svc.user('王磊', 'sales', '华东一部');
  li = await svc.user('李娜', 'sales', '华东一部');
  reviewer = await svc.user('张敏', 'reviewer', '华东一部');
});

afterEach(async () => {
  await svc.close();
});

async function register(
  token: string,
  rows: unknown[],
  headers?: Record<string, string>,
): Promise<RowResult[]> {
  const res = await svc.api(token).post<Results>('/api/registrations', { rows }, headers);
  expect(res.status).toBe(200);
  return res.body.results;
}

async function only(token: string, row: unknown): Promise<RowResult> {
  const [result] = await register(token, [row]);
  if (!result) throw new Error('no result');
  return result;
}

async function listAll(token: string, query = ''): Promise<List> {
  const res = await svc.api(token).get<List>(`/api/registrations${query}`);
  expect(res.status).toBe(200);
  return res.body;
}

describe('POST /api/check', () => {
  it('[R3] says what would happen and saves nothing: no number is taken, the register stays empty', async () => {
    const res = await svc
      .api(wang)
      .post<Results>('/api/check', { rows: [enterpriseRow(1), enterpriseRow(2)] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r) => r.status)).toEqual(['pending', 'pending']);
    for (const r of res.body.results) expect(r).not.toHaveProperty('registrationNo');
    expect((await listAll(svc.adminToken)).total).toBe(0);

    // The first real registration still gets the first number of the year (R7): the check took none.
    const saved = await only(wang, enterpriseRow(1));
    expect(saved.registrationNo).toBe('BB-2026-000001');
  });

  it('[R3] rows of one batch see each other, exactly as they would on submit', async () => {
    const res = await svc
      .api(wang)
      .post<Results>('/api/check', { rows: [enterpriseRow(3), enterpriseRow(3)] });
    expect(res.body.results.map((r) => r.status)).toEqual(['pending', 'duplicate']);

    // A reviewer checking the same customer for two registrants sees the second one conflict.
    const both = await svc.api(reviewer).post<Results>('/api/check', {
      rows: [
        { ...enterpriseRow(4), registrant: '王磊' },
        { ...enterpriseRow(4), registrant: '李娜' },
      ],
    });
    expect(both.body.results.map((r) => r.status)).toEqual(['pending', 'conflict']);
    expect(both.body.results[1]?.conflicts[0]?.holder.name).toBe('王磊');
    expect((await listAll(svc.adminToken)).total).toBe(0);
  });

  it('[R3] shows that a customer is held by someone, without that person’s customer details', async () => {
    await only(wang, {
      ...enterpriseRow(5),
      contactName: '赵六',
      contactPhone: '13812340001',
      expectedAmount: '50万',
    });
    const res = await svc
      .api(li)
      .post<Results>('/api/check', { rows: [{ ...enterpriseRow(5), contactPhone: '13999990002' }] });
    const [result] = res.body.results;
    expect(result?.status).toBe('conflict');
    expect(result?.conflicts[0]).toMatchObject({
      registrationNo: 'BB-2026-000001',
      holder: { name: '王磊', team: '华东一部' },
    });
    const text = JSON.stringify(res.body);
    for (const secret of ['赵六', '13812340001', '500000', '50万']) expect(text).not.toContain(secret);
    expect((await listAll(svc.adminToken)).total).toBe(1);
  });
});

describe('POST /api/registrations', () => {
  it('[R7][R12] a new customer is pending, numbered, and due for review 7 working days after receipt', async () => {
    const result = await only(wang, { ...enterpriseRow(10), clientRowId: 'A2' });
    // Received Mon 2026-11-23; working days 24, 25, 26, 27, 30 Nov, 1 and 2 Dec (no holiday between).
    expect(addWorkdays('2026-11-23', 7)).toBe('2026-12-02');
    expect(result).toMatchObject({
      clientRowId: 'A2',
      status: 'pending',
      registrationNo: 'BB-2026-000001',
      reviewDueBy: '2026-12-02',
      errors: [],
      conflicts: [],
    });
  });

  it('[R12] the review deadline counts Chinese working days: National Day off, the make-up Saturday on', async () => {
    svc.setNow('2026-09-30T02:00:00.000Z'); // Wed 2026-09-30, the day before the 1–7 October holiday
    const result = await only(wang, enterpriseRow(11));
    // 8 Oct (Thu), 9 (Fri), 10 (Sat, 调休 workday), 12, 13, 14, 15 → Thu 2026-10-15.
    expect(addWorkdays('2026-09-30', 7)).toBe('2026-10-15');
    expect(result.reviewDueBy).toBe('2026-10-15');
  });

  it('[R2][R5][R6] an invalid row names every bad field, saves nothing, and never fails the other rows', async () => {
    const results = await register(wang, [
      { ...enterpriseRow(12), clientRowId: 1 },
      {
        customerName: '',
        customerType: '企业',
        contactPhone: '12345',
        email: 'not-an-email',
        creditCode: '91310115000000001X',
        clientRowId: 2,
      },
      { ...enterpriseRow(13), clientRowId: 3 },
    ]);
    expect(results.map((r) => [r.clientRowId, r.status])).toEqual([
      [1, 'pending'],
      [2, 'invalid'],
      [3, 'pending'],
    ]);
    const bad = results[1]!;
    expect(bad).not.toHaveProperty('registrationNo');
    expect(new Set(bad.errors.map((e) => e.field))).toEqual(
      new Set(['customerName', 'contactPhone', 'email', 'creditCode', 'source']),
    );
    for (const e of bad.errors) {
      expect(e.code).toMatch(/^[a-zA-Z]+\.[a-zA-Z_]+$/);
      expect(e.message).not.toBe('');
    }
    const list = await listAll(svc.adminToken);
    expect(list.total).toBe(2);
    expect(list.items.map((r) => r.no).sort()).toEqual(
      [results[0]!.registrationNo, results[2]!.registrationNo].sort(),
    );
  });

  it('[R5] an enterprise without credit code, address or region is refused with customer.identification', async () => {
    const result = await only(wang, {
      customerName: '上海无名实业有限公司',
      customerType: '企业',
      source: '展会',
    });
    expect(result.status).toBe('invalid');
    expect(result.errors).toContainEqual(expect.objectContaining({ code: 'customer.identification' }));
  });

  it('the same registrant twice → duplicate with the existing number, nothing saved', async () => {
    const first = await only(wang, enterpriseRow(14));
    const again = await only(wang, { ...enterpriseRow(14), contactPhone: '13700000000' });
    expect(again.status).toBe('duplicate');
    expect(again.registrationNo).toBe(first.registrationNo);
    expect(again.warnings).toContainEqual(expect.objectContaining({ code: 'registration.duplicate' }));
    expect((await listAll(svc.adminToken)).total).toBe(1);
  });

  it('[R15][R34] another registrant’s earlier pending claim → conflict; the holder’s name, team and dates only', async () => {
    const first = await only(wang, {
      ...enterpriseRow(15),
      contactName: '赵六',
      contactPhone: '13812345678',
      email: 'zhao@huaxin.example',
      expectedAmount: '50万',
      expectedUnitPrice: '¥1,234',
      need: '年度采购',
    });
    svc.setNow('2026-11-23T03:00:00.000Z');
    const second = await only(li, { ...enterpriseRow(15), contactName: '钱七', contactPhone: '13987654321' });
    expect(second.status).toBe('conflict');
    expect(second.registrationNo).toBe('BB-2026-000002');
    expect(second.reviewDueBy).toBe('2026-12-02');
    expect(second.conflicts).toEqual([
      {
        registrationNo: first.registrationNo,
        status: 'pending',
        holder: { name: '王磊', team: '华东一部' },
        registeredAt: MONDAY,
        matchedOn: 'creditCode',
        strength: 'exact',
      },
    ]);
    const seen = JSON.stringify(second);
    for (const secret of ['赵六', '13812345678', '5678', 'zhao@', '500000', '1234', '年度采购']) {
      expect(seen).not.toContain(secret);
    }
    // Saved, competing, waiting for the reviewer.
    const record = await svc.api(li).get<RecordView>(`/api/registrations/${second.registrationNo}`);
    expect(record.body).toMatchObject({
      status: 'conflict',
      conflictKind: 'competing',
      blockedBy: [first.registrationNo],
    });
  });

  it('[R21] a customer protected for someone else → conflict, queued behind the protection', async () => {
    const first = await only(wang, enterpriseRow(16));
    const approved = await svc
      .api(reviewer)
      .post<RecordView>(`/api/registrations/${first.registrationNo}/review`, {
        decision: 'approve',
        reason: '资料齐全',
      });
    expect(approved.status).toBe(200);
    const second = await only(li, enterpriseRow(16));
    expect(second.status).toBe('conflict');
    expect(second.conflicts[0]).toMatchObject({
      registrationNo: first.registrationNo,
      status: 'protected',
      holder: { name: '王磊' },
      // R25: approved Mon 2026-11-23, 3 months inclusive → through 2027-02-22.
      protectedUntil: '2027-02-22',
    });
    expect(second.warnings).toContainEqual(expect.objectContaining({ code: 'registration.conflict' }));
    const record = await svc.api(li).get<RecordView>(`/api/registrations/${second.registrationNo}`);
    expect(record.body).toMatchObject({
      status: 'conflict',
      conflictKind: 'queued',
      blockedBy: [first.registrationNo],
    });
  });

  it('only possible matches → pending, with the matches listed and a match.possible warning', async () => {
    const first = await only(wang, {
      customerName: '上海华信科技有限公司',
      customerType: '企业',
      region: '上海',
      contactPhone: '13812345678',
      source: '展会',
    });
    // Another company that gave the same phone: maybe the same customer, maybe not.
    const second = await only(li, {
      customerName: '北京远景贸易有限公司',
      customerType: '企业',
      region: '北京',
      contactPhone: '13812345678',
      source: '展会',
    });
    expect(second.status).toBe('pending');
    expect(second.conflicts).toEqual([
      expect.objectContaining({ registrationNo: first.registrationNo, strength: 'possible' }),
    ]);
    expect(second.warnings).toContainEqual(expect.objectContaining({ code: 'match.possible' }));
  });

  it('[R27] a registrant banned for that customer → rejected, registration.banned, with the until-date', async () => {
    const first = await only(wang, enterpriseRow(17));
    const closed = await svc.api(reviewer).post(`/api/registrations/${first.registrationNo}/close`, {
      outcome: 'false_info',
      note: '联系人电话为虚构',
    });
    expect(closed.status).toBe(200);
    const again = await only(wang, enterpriseRow(17));
    expect(again.status).toBe('rejected');
    expect(again).not.toHaveProperty('registrationNo');
    // False info found on 2026-11-23: banned for 3 months, through 2027-02-22.
    expect(again.errors).toEqual([expect.objectContaining({ code: 'registration.banned' })]);
    expect(again.errors[0]?.messageEn).toContain('2027-02-22');
    expect(again.errors[0]?.message).toContain('2027-02-22');
  });

  it('[R34] sales cannot register for someone else; a reviewer can, and the record is that person’s', async () => {
    const refused = await only(wang, { ...enterpriseRow(18), registrant: '李娜' });
    expect(refused.status).toBe('invalid');
    expect(refused.errors).toContainEqual(
      expect.objectContaining({ code: 'registrant.forbidden', field: 'registrant' }),
    );

    const forLi = await only(reviewer, { ...enterpriseRow(18), registrant: '李娜' });
    expect(forLi.status).toBe('pending');
    const record = await svc.api(li).get<RecordView>(`/api/registrations/${forLi.registrationNo}`);
    expect(record.body).toMatchObject({
      registration: { registrant: '李娜' },
      team: '华东一部',
      submittedBy: '张敏',
    });
  });

  it('[R34] one batch for registrants of several teams: each record carries its own registrant’s team', async () => {
    // The service looks each registrant's team up once per batch; rows alternate between registrants.
    await svc.user('赵强', 'sales', '华南二部');
    const results = await register(reviewer, [
      { ...enterpriseRow(31), registrant: '李娜' },
      { ...enterpriseRow(32), registrant: '赵强' },
      { ...enterpriseRow(33), registrant: '李娜' },
      { ...enterpriseRow(34), registrant: '赵强' },
    ]);
    expect(results.map((r) => r.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
    const teams: (string | undefined)[] = [];
    for (const r of results) {
      const record = await svc.api(svc.adminToken).get<RecordView>(`/api/registrations/${r.registrationNo}`);
      teams.push(record.body.team);
    }
    expect(teams).toEqual(['华东一部', '华南二部', '华东一部', '华南二部']);
  });

  it('[R17] sales cannot backdate: registeredAt is ignored with a warning and the receipt time counts', async () => {
    const result = await only(wang, { ...enterpriseRow(19), registeredAt: '2026-11-01' });
    expect(result.status).toBe('pending');
    expect(result.warnings).toContainEqual(
      expect.objectContaining({ code: 'registeredAt.ignored', field: 'registeredAt' }),
    );
    const record = await svc.api(wang).get<RecordView>(`/api/registrations/${result.registrationNo}`);
    expect(record.body.claimedAt).toBe(MONDAY);

    const approvedAt = await only(wang, { ...enterpriseRow(20), approvedAt: '2026-10-01' });
    expect(approvedAt.status).toBe('invalid');
    expect(approvedAt.errors).toContainEqual(
      expect.objectContaining({ code: 'approvedAt.forbidden', field: 'approvedAt' }),
    );
  });

  it('[R25] an administrator migrating with approvedAt gets protected or expired by the 3-month window', async () => {
    const results = await register(svc.adminToken, [
      { ...enterpriseRow(21), registrant: '王磊', registeredAt: '2026-09-28', approvedAt: '2026-10-01' },
      { ...enterpriseRow(22), registrant: '王磊', registeredAt: '2026-05-06', approvedAt: '2026-05-10' },
    ]);
    // 2026-10-01 + 3 months, last day inclusive → 2026-12-31; today (2026-11-23) inside it.
    expect(results[0]).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-10-01',
      protectedUntil: '2026-12-31',
    });
    // 2026-05-10 → through 2026-08-09, long before today.
    expect(results[1]).toMatchObject({
      status: 'expired',
      protectedFrom: '2026-05-10',
      protectedUntil: '2026-08-09',
    });
    const record = await svc.api(wang).get<RecordView>(`/api/registrations/${results[0]!.registrationNo}`);
    expect(record.body.claimedAt.slice(0, 10)).toBe('2026-09-27'); // 2026-09-28 00:00 in Shanghai, as UTC
    expect(record.body.history.map((h) => h.action)).toEqual(['migrate']);
  });

  it('[R25] under policy.autoApprove a new customer is protected at once', async () => {
    const put = await svc.api(svc.adminToken).put('/api/policy', { autoApprove: true });
    expect(put.status).toBe(200);
    const result = await only(wang, enterpriseRow(23));
    // Protected from today, Mon 2026-11-23, 3 months inclusive → through 2027-02-22; nothing to review.
    expect(result).toMatchObject({
      status: 'protected',
      protectedFrom: '2026-11-23',
      protectedUntil: '2027-02-22',
    });
    expect(result).not.toHaveProperty('reviewDueBy');
  });

  it('PUT /api/policy replaces the policy: what the body leaves out comes from the preset it names', async () => {
    const admin = svc.api(svc.adminToken);
    const followUp = await admin.put<Policy>('/api/policy', { preset: 'follow-up', poolCooldownDays: 10 });
    expect(followUp.body).toMatchObject({
      preset: 'follow-up',
      poolCooldownDays: 10,
      followUp: { everyDays: 7 },
    });
    // An override alone: the standard preset, the follow-up rules and the earlier override gone.
    const alone = await admin.put<Policy & { lapsed: unknown }>('/api/policy', {
      maxActivePerRegistrant: 50,
    });
    expect(alone.body).toMatchObject({
      preset: 'standard',
      followUp: null,
      poolCooldownDays: 30,
      maxActivePerRegistrant: 50,
    });
    // The answer is the policy stored, and what the change voided first (nothing here).
    const { lapsed, ...stored } = alone.body;
    expect(lapsed).toEqual({ voided: 0, numbers: [] });
    expect((await admin.get<Policy>('/api/policy')).body).toEqual(stored);
  });

  it('refuses malformed requests with 400 and names the field', async () => {
    const api = svc.api(wang);
    const missing = await api.post<ErrorBody>('/api/registrations', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'request.invalid', field: 'rows' });

    const empty = await api.post<ErrorBody>('/api/registrations', { rows: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.field).toBe('rows');

    const unknownField = await api.post<ErrorBody>('/api/registrations', {
      rows: [{ ...enterpriseRow(24), 客户名称: 'x' }],
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error).toMatchObject({ code: 'request.invalid', field: 'rows.0.客户名称' });
    expect(unknownField.body.error.messageEn).toContain('客户名称');

    const extraTop = await api.post<ErrorBody>('/api/registrations', {
      rows: [enterpriseRow(24)],
      dryRun: true,
    });
    expect(extraTop.status).toBe(400);
    expect(extraTop.body.error).toMatchObject({ code: 'request.invalid', field: 'dryRun' });
    expect(extraTop.body.error.message).toMatch(/^字段 dryRun：.*dryRun/);

    // A registration number is BB-yyyy-nnnnnn (R7, core/schema REGISTRATION_NO), in a path as in a list.
    const shortNo = await api.get<ErrorBody>('/api/registrations?no=BB-2026-000001,BB-2026-12');
    expect(shortNo.status).toBe(400);
    expect(shortNo.body.error).toMatchObject({ code: 'request.invalid', field: 'no.1' });
    const badPath = await api.get<ErrorBody>('/api/registrations/BB-26-000001');
    expect(badPath.status).toBe(400);
    expect(badPath.body.error.messageEn).toContain('like BB-2026-000123');

    const badCell = await api.post<ErrorBody>('/api/registrations', {
      rows: [{ ...enterpriseRow(24), contactPhone: { n: 1 } }],
    });
    expect(badCell.status).toBe(400);
    expect(badCell.body.error.field).toBe('rows.0.contactPhone');

    // Two rows with one clientRowId: each would be told the other's outcome.
    const twice = await api.post<ErrorBody>('/api/check', {
      rows: [
        { ...enterpriseRow(24), clientRowId: 'r1' },
        { ...enterpriseRow(25), clientRowId: 7 },
        { ...enterpriseRow(26), clientRowId: 'r1' },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatchObject({ code: 'request.invalid', field: 'rows.2.clientRowId' });
    expect(twice.body.error.message).toContain('与 rows.0 的 clientRowId 相同');
    expect(twice.body.error.messageEn).toContain('the same clientRowId as rows.0');
    // 7 and "7" stay two ids, as the echo keeps them apart.
    const typed = await api.post<{ results: unknown[] }>('/api/check', {
      rows: [
        { ...enterpriseRow(24), clientRowId: 7 },
        { ...enterpriseRow(25), clientRowId: '7' },
      ],
    });
    expect(typed.status).toBe(200);
    expect(typed.body.results).toHaveLength(2);

    // A path that is no endpoint is named as sent, /api included (it said "POST /registrations/check").
    const noSuch = await api.post<ErrorBody>('/api/registrations/check', { rows: [enterpriseRow(24)] });
    expect(noSuch.status).toBe(404);
    expect(noSuch.body.error).toMatchObject({
      code: 'route.not_found',
      message: '没有这个接口：POST /api/registrations/check',
      messageEn: 'No such endpoint: POST /api/registrations/check',
    });

    // Both languages name the type that came, not only the English (the zh text said "undefined").
    const notRows = await api.post<ErrorBody>('/api/registrations', { rows: 'row 1' });
    expect(notRows.status).toBe(400);
    expect(notRows.body.error.messageEn).toBe('Field rows: Invalid input: expected array, received string');
    expect(notRows.body.error.message).toBe('字段 rows：无效输入：期望 数组，实际接收 string');

    const notJson = await fetch(`${svc.url}/api/registrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${wang}`, 'content-type': 'application/json' },
      body: '{"rows": [',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as ErrorBody).error.code).toBe('request.invalid');

    const badKey = await api.post<ErrorBody>(
      '/api/registrations',
      { rows: [enterpriseRow(24)] },
      { 'Idempotency-Key': 'has space' },
    );
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.field).toBe('Idempotency-Key');

    expect((await listAll(svc.adminToken)).total).toBe(0);
  });

  it('echoes clientRowId, string or number, on every kind of result', async () => {
    const results = await register(wang, [
      { ...enterpriseRow(25), clientRowId: 'sheet1!A7' },
      { ...enterpriseRow(25), clientRowId: 8 },
      { customerName: '', clientRowId: 'blank' },
    ]);
    expect(results.map((r) => [r.clientRowId, r.status])).toEqual([
      ['sheet1!A7', 'pending'],
      [8, 'duplicate'],
      ['blank', 'invalid'],
    ]);
  });
});

describe('GET /api/registrations', () => {
  /** Wang: two pending, one protected (approved), two migrated protections; Li: one pending. */
  async function seed(): Promise<{
    pending: string[];
    protectedNo: string;
    soon: string;
    later: string;
    lis: string;
  }> {
    const p1 = await only(wang, enterpriseRow(30));
    svc.setNow('2026-11-23T03:00:00.000Z');
    const p2 = await only(wang, enterpriseRow(31));
    svc.setNow('2026-11-23T04:00:00.000Z');
    const p3 = await only(wang, enterpriseRow(32));
    await svc
      .api(reviewer)
      .post(`/api/registrations/${p3.registrationNo}/review`, { decision: 'approve', reason: 'ok' });
    svc.setNow('2026-11-23T05:00:00.000Z');
    const lis = await only(li, { ...enterpriseRow(33), customerName: '杭州西湖茶叶有限公司' });
    svc.setNow('2026-11-23T06:00:00.000Z');
    const migrated = await register(svc.adminToken, [
      // Through 2026-11-30: 7 days from today.
      { ...enterpriseRow(34), registrant: '王磊', approvedAt: '2026-09-01' },
      // Through 2027-01-19.
      { ...enterpriseRow(35), registrant: '王磊', approvedAt: '2026-10-20' },
    ]);
    expect(migrated.map((r) => r.protectedUntil)).toEqual(['2026-11-30', '2027-01-19']);
    return {
      pending: [p1.registrationNo!, p2.registrationNo!],
      protectedNo: p3.registrationNo!,
      soon: migrated[0]!.registrationNo!,
      later: migrated[1]!.registrationNo!,
      lis: lis.registrationNo!,
    };
  }

  it('[R14][R34] lists the caller’s own registrations with their status, newest first', async () => {
    const s = await seed();
    const mine = await listAll(wang);
    expect(mine.total).toBe(5);
    expect(mine.items.map((r) => r.no)).toEqual(
      [s.soon, s.later, s.protectedNo, s.pending[1], s.pending[0]].sort().reverse(),
    );
    expect(mine.items.every((r) => r.registration.registrant === '王磊')).toBe(true);
    expect(mine.items.map((r) => r.status)).toEqual([
      'protected',
      'protected',
      'protected',
      'pending',
      'pending',
    ]);
    // Never the hashed identity keys.
    expect(mine.items[0]).not.toHaveProperty('identity');
    expect((await listAll(svc.adminToken)).total).toBe(6);
  });

  it('filters by status (one or several) and by registrant', async () => {
    const s = await seed();
    const prot = await listAll(wang, '?status=protected');
    expect(prot.items.map((r) => r.no).sort()).toEqual([s.protectedNo, s.soon, s.later].sort());
    const several = await listAll(svc.adminToken, '?status=pending,conflict');
    expect(several.items.map((r) => r.no).sort()).toEqual([...s.pending, s.lis].sort());
    const bad = await svc.api(wang).get<ErrorBody>('/api/registrations?status=approved');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('status.0');

    const lis = await listAll(reviewer, `?registrant=${encodeURIComponent('李娜')}`);
    expect(lis.items.map((r) => r.no)).toEqual([s.lis]);
    const own = await listAll(wang, `?registrant=${encodeURIComponent('王磊')}`);
    expect(own.total).toBe(5);
  });

  it('searches the customer name with q=', async () => {
    const s = await seed();
    const hit = await listAll(svc.adminToken, `?q=${encodeURIComponent('西湖茶叶')}`);
    expect(hit.items.map((r) => r.no)).toEqual([s.lis]);
    expect(hit.total).toBe(1);
    // Search respects scope: Wang cannot find Li's customer.
    expect((await listAll(wang, `?q=${encodeURIComponent('西湖茶叶')}`)).total).toBe(0);
    expect((await listAll(svc.adminToken, `?q=${encodeURIComponent('不存在的公司')}`)).total).toBe(0);
  });

  it('[R25] expiringWithinDays: protections whose last day is within today … today + n, inclusive', async () => {
    const s = await seed();
    // Today 2026-11-23; one protection ends 2026-11-30 (today + 7), the approved one 2027-02-22.
    expect((await listAll(wang, '?expiringWithinDays=7')).items.map((r) => r.no)).toEqual([s.soon]);
    expect((await listAll(wang, '?expiringWithinDays=6')).total).toBe(0);
    expect((await listAll(wang, '?expiringWithinDays=57')).items.map((r) => r.no)).toEqual(
      [s.soon, s.later].sort().reverse(),
    );
  });

  it('pages with limit and offset; total counts every match', async () => {
    await seed();
    const all = await listAll(wang);
    const first = await listAll(wang, '?limit=2&offset=0');
    const second = await listAll(wang, '?limit=2&offset=2');
    const third = await listAll(wang, '?limit=2&offset=4');
    expect([first.total, second.total, third.total]).toEqual([5, 5, 5]);
    expect([first.items.length, second.items.length, third.items.length]).toEqual([2, 2, 1]);
    expect([...first.items, ...second.items, ...third.items].map((r) => r.no)).toEqual(
      all.items.map((r) => r.no),
    );
    for (const q of ['?limit=0', '?limit=1001', '?offset=-1', '?limit=abc', '?sort=name']) {
      const res = await svc.api(wang).get<ErrorBody>(`/api/registrations${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe('request.invalid');
    }
  });
});

describe('GET /api/registrations/:no', () => {
  it('[R37] returns the record with its history: who did what, when', async () => {
    const created = await only(wang, enterpriseRow(40));
    svc.setNow('2026-11-24T02:00:00.000Z');
    await svc.api(reviewer).post(`/api/registrations/${created.registrationNo}/review`, {
      decision: 'approve',
      reason: '资料齐全',
    });
    const res = await svc.api(wang).get<RecordView>(`/api/registrations/${created.registrationNo}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      no: created.registrationNo,
      status: 'protected',
      registration: { customerName: enterpriseRow(40).customerName, registrant: '王磊' },
      receivedAt: MONDAY,
      protectedFrom: '2026-11-24',
      protectedUntil: '2027-02-23',
    });
    expect(res.body.history).toEqual([
      { at: MONDAY, by: '王磊', action: 'register', to: 'pending' },
      {
        at: '2026-11-24T02:00:00.000Z',
        by: '张敏',
        action: 'review.approve',
        from: 'pending',
        to: 'protected',
        reason: '资料齐全',
      },
    ]);
  });

  it('404 for a number that does not exist, 400 for one that is not a number', async () => {
    const missing = await svc.api(wang).get<ErrorBody>('/api/registrations/BB-2026-999999');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('registration.not_found');
    for (const bad of ['123', 'BB-26-1', 'bb-2026-000001', 'BB-2026-00001x']) {
      const res = await svc.api(wang).get<ErrorBody>(`/api/registrations/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'request.invalid', field: 'no' });
    }
  });
});

/**
 * The 公海 sheet end to end (issue 13): a customer whose record lapsed (R31) is in the pool; a
 * colleague builds the sheet, marks 认领 with what they know of the customer and files it — a
 * normal registration; the former holder is refused within the cooldown (R44) with the day they
 * may claim again; pressing again after a lost answer never registers twice. Fake Excel, real service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POOL_SHEET_NAME } from '../../core/poolSheetPlan.js';
import { createApiClient, type ApiClient } from '../../addin/apiClient.js';
import { createExcelGateway, type ExcelHost } from '../../addin/excelGateway.js';
import { createPoolSheet } from '../../addin/poolSheet.js';
import { createFakeOffice, type FakeOffice } from '../fakes/fakeExcel.js';
import { companyNameFor, enterpriseRow, phoneFor } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';

let svc: TestService;
let wang: ApiClient;
let li: ApiClient;

function gatewayFor(fake: FakeOffice) {
  return createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost);
}

function rowOf(fake: FakeOffice, customer: string): number {
  const names = fake.workbook.values(POOL_SHEET_NAME, 'B1:B50').map((r) => r[0]);
  const index = names.indexOf(customer);
  expect(index, customer).toBeGreaterThan(0);
  return index + 1;
}

/** A service with customers 1 and 2 of 王磊's lapsed into the pool (R31, R44). */
async function servicePool(): Promise<{ svc: TestService; wang: ApiClient; li: ApiClient }> {
  const svc = await startTestService({ now: '2026-03-02T01:00:00.000Z' });
  const client = (token: string) => createApiClient({ baseUrl: svc.url, token });
  const wang = client(await svc.user('王磊', 'sales', '华东一部'));
  const li = client(await svc.user('李娜', 'sales', '华东一部'));
  const reviewer = client(await svc.user('张敏', 'reviewer', '华东一部'));
  await svc.api(svc.adminToken).put('/api/policy', { preset: 'follow-up' });
  for (const n of [1, 2]) {
    const [r] = await wang.submit([enterpriseRow(n, { grade: 'B' })], `reg-${n}`);
    await reviewer.review(r!.registrationNo!, { decision: 'approve', reason: '资料齐全' });
  }
  // No follow-up within 3 days (R31): the sweep voids both records into the pool. It runs late
  // (03-12); they lapsed on 03-06, which is what the pool and the cooldown count from.
  svc.setNow('2026-03-12T02:00:00.000Z');
  await svc.running.services.lifecycle.sweep();
  svc.setNow('2026-03-13T02:00:00.000Z');
  return { svc, wang, li };
}

beforeAll(async () => {
  ({ svc, wang, li } = await servicePool());
});

afterAll(async () => {
  await svc.close();
});

describe('公海', () => {
  it('lists the pooled customers with only what anyone may see, and files a colleague’s claim', async () => {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const pool = createPoolSheet({ excel: gatewayFor(fake), api: li });
    expect(await pool.build()).toEqual({ rows: 2 });
    const header = fake.workbook.values(POOL_SHEET_NAME, 'A1:M1')[0];
    expect(header).toEqual([
      '公海编号',
      '客户名称',
      '客户类型',
      '所在地区',
      '客户等级',
      '最后服务日',
      '进入公海日',
      '认领',
      '联系人',
      '联系电话',
      '统一社会信用代码',
      '需求说明',
      '处理结果',
    ]);
    const row = rowOf(fake, companyNameFor(1));
    const listed = fake.workbook.values(POOL_SHEET_NAME, `A${row}:G${row}`)[0]!;
    expect(listed.slice(1)).toEqual([
      companyNameFor(1),
      '企业',
      '上海',
      'B',
      expect.any(String),
      '2026-03-06',
    ]);
    // Nothing R3 hides: no phone of the former holder's record anywhere in the sheet.
    expect(JSON.stringify(fake.workbook.values(POOL_SHEET_NAME, 'A1:M10'))).not.toContain(phoneFor(1));

    fake.workbook.setValues(POOL_SHEET_NAME, `H${row}`, [['认领', '陈先生', '13900001111', '', '想要报价']]);
    const applied = await pool.applyClaims();
    expect(applied).toMatchObject({ claimed: 1, errors: [] });
    // The claim is a registration of 李娜's; the claimed customer leaves the pool and tops the sheet as done.
    const mine = await li.listRegistrations({ registrant: '李娜' });
    expect(mine.items.map((r) => r.registration.customerName)).toEqual([companyNameFor(1)]);
    expect(mine.items[0]!.registration.contactPhone).toBe('13900001111');
    expect(String(fake.workbook.values(POOL_SHEET_NAME, 'M2')[0]![0])).toMatch(/^已认领：BB-2026-\d{6}/);
    expect((await li.pool()).map((p) => p.customerName)).toEqual([companyNameFor(2)]);
  });

  it('the former holder is refused within the cooldown, with the day they may claim again', async () => {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const pool = createPoolSheet({ excel: gatewayFor(fake), api: wang });
    await pool.build();
    const row = rowOf(fake, companyNameFor(2));
    fake.workbook.setValues(POOL_SHEET_NAME, `H${row}`, [['认领', '', '13900002222']]);
    const applied = await pool.applyClaims();
    expect(applied.claimed).toBe(0);
    expect(applied.errors[0]!.message).toMatch(/^pool\.cooldown：/);
    const again = rowOf(fake, companyNameFor(2));
    expect(String(fake.workbook.values(POOL_SHEET_NAME, `M${again}`)[0]![0])).toMatch(
      /^pool\.cooldown：.*2026-04-05/,
    );
    // What was typed stays, so the person sees what they sent.
    expect(fake.workbook.values(POOL_SHEET_NAME, `H${again}:J${again}`)[0]).toEqual([
      '认领',
      '',
      '13900002222',
    ]);
  });

  it('a claim pressed twice with the sheet as it was (the answer was lost) registers once', async () => {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const zhou = createApiClient({ baseUrl: svc.url, token: await svc.user('周杰', 'sales', '华东一部') });
    const pool = createPoolSheet({ excel: gatewayFor(fake), api: zhou });
    await pool.build();
    const row = rowOf(fake, companyNameFor(2));
    fake.workbook.setValues(POOL_SHEET_NAME, `H${row}`, [['认领', '', '13900003333']]);
    const typed = fake.workbook.values(POOL_SHEET_NAME, `A1:M${row}`);
    expect((await pool.applyClaims()).claimed).toBe(1);
    // The sheet as it stood before the answer came back, applied again.
    fake.workbook.setValues(POOL_SHEET_NAME, 'A1', typed);
    const retried = await pool.applyClaims();
    expect(retried.errors[0]?.message ?? '').toContain('已不在公海中');
    const held = await zhou.listRegistrations({ registrant: '周杰' });
    expect(held.total).toBe(1);
  });
});

describe('公海: a refused claim pressed again', () => {
  let own: Awaited<ReturnType<typeof servicePool>>;
  beforeAll(async () => {
    own = await servicePool();
  });
  afterAll(async () => {
    await own.svc.close();
  });

  it('goes through once corrected: the key of the refused attempt is not reused for a new body', async () => {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const pool = createPoolSheet({ excel: gatewayFor(fake), api: own.li });
    await pool.build();
    const row = rowOf(fake, companyNameFor(2));
    // A phone the service refuses.
    fake.workbook.setValues(POOL_SHEET_NAME, `H${row}`, [['认领', '', '12345']]);
    const refused = await pool.applyClaims();
    expect(refused.claimed).toBe(0);
    expect(refused.errors[0]!.message).not.toMatch(/^idempotency/);
    // Corrected in the kept row, pressed again: the claim is filed, not refused as a reused key.
    const again = rowOf(fake, companyNameFor(2));
    fake.workbook.setValues(POOL_SHEET_NAME, `J${again}`, [['13900004444']]);
    const corrected = await pool.applyClaims();
    expect(corrected.errors).toEqual([]);
    expect(corrected.claimed).toBe(1);
    expect((await own.li.listRegistrations({ registrant: '李娜' })).total).toBe(1);
  });

  it('goes through once its cause is gone (R45 cap raised), sent as it was: the refusal is not replayed', async () => {
    const admin = own.svc.api(own.svc.adminToken);
    await admin.put('/api/policy', { preset: 'follow-up', maxActivePerRegistrant: 1 });
    const zhao = createApiClient({
      baseUrl: own.svc.url,
      token: await own.svc.user('赵强', 'sales', '华东一部'),
    });
    await zhao.submit([enterpriseRow(10)], 'zhao-10');
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const pool = createPoolSheet({ excel: gatewayFor(fake), api: zhao });
    await pool.build();
    const row = rowOf(fake, companyNameFor(1));
    fake.workbook.setValues(POOL_SHEET_NAME, `H${row}`, [['认领', '', '13900005555']]);
    const refused = await pool.applyClaims();
    expect(refused.errors[0]!.message).toMatch(/^registration\.cap：/);
    // An administrator raises the cap; the same row, untouched, is pressed again.
    await admin.put('/api/policy', { preset: 'follow-up', maxActivePerRegistrant: 2 });
    const again = await pool.applyClaims();
    expect(again.errors).toEqual([]);
    expect(again.claimed).toBe(1);
    expect((await zhao.listRegistrations({ registrant: '赵强' })).total).toBe(2);
  });
});

/**
 * 我的报备 end to end (issue 9): the fake Excel (enforcing office-js rules) on one side, the real
 * service over real HTTP on the other. A salesperson builds the sheet, types actions into 操作,
 * applies them — an extension, an objection to a lost decision, a follow-up, a refusal — and the
 * outcomes land on the right rows even after the sheet was sorted; a retry with the sheet as it
 * was never files an action twice; the sync count is the same at 100 and 10,000 rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATE_1904_OFFSET_DAYS } from '../../core/sheetRows.js';
import { FILLS } from '../../core/annotation.js';
import { MY_SHEET_NAME } from '../../core/mySheetPlan.js';
import type { RowResult } from '../../core/schema.js';
import { createApiClient, type ApiClient } from '../../addin/apiClient.js';
import { createExcelGateway, type ExcelHost } from '../../addin/excelGateway.js';
import { createMyRegistrations, expiringSummary } from '../../addin/myRegistrations.js';
import { dayOf } from '../../core/day.js';
import { createFakeOffice, type FakeOffice } from '../fakes/fakeExcel.js';
import { companyNameFor, creditCodeFor, enterpriseRow, phoneFor } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';

const HEADER = [
  '报备编号',
  '客户名称',
  '状态',
  '保护开始',
  '保护截止',
  '剩余天数',
  '延期申请截止',
  '异议截止',
  '下次跟进',
  '共享份额(%)',
  '最近审核意见',
  '操作',
  '说明',
  '跟进日期',
  '跟进方式',
  '客户反馈',
  '下一步',
  '处理结果',
  '版本',
];
const COL = {
  no: 'A',
  status: 'C',
  until: 'E',
  extensionBy: 'G',
  objectionBy: 'H',
  action: 'L',
  outcome: 'R',
};

let svc: TestService;
let wang: ApiClient;
let li: ApiClient;
let zhang: ApiClient;
/** 王磊's registrations: two approved, one lost to 李娜, one pending. */
const no = { approvedA: '', approvedB: '', lost: '', pending: '' };

function gatewayFor(fake: FakeOffice) {
  return createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost);
}

async function register(api: ApiClient, n: number): Promise<string> {
  const [result] = (await api.submit([enterpriseRow(n)], `k-${n}-${Math.random()}`)) as RowResult[];
  return result!.registrationNo!;
}

beforeAll(async () => {
  svc = await startTestService({ now: '2026-03-02T02:00:00.000Z' });
  const client = (token: string) => createApiClient({ baseUrl: svc.url, token });
  wang = client(await svc.user('王磊', 'sales', '华东一部'));
  li = client(await svc.user('李娜', 'sales', '华东一部'));
  zhang = client(await svc.user('张敏', 'reviewer', '华东一部'));
  no.approvedA = await register(wang, 1);
  no.approvedB = await register(wang, 2);
  no.lost = await register(wang, 3);
  no.pending = await register(wang, 4);
  const rival = await register(li, 3);
  await zhang.review(no.approvedA, { decision: 'approve', reason: '资料齐全' });
  svc.setNow('2026-03-03T02:00:00.000Z');
  await zhang.review(no.approvedB, { decision: 'approve', reason: '资料齐全' });
  // 李娜 wins the clash over customer 3: 王磊's registration loses and may be objected to (R12).
  await zhang.review(rival, { decision: 'approve', reason: '李娜先拜访' });
});

afterAll(async () => {
  await svc.close();
});

function rowOf(fake: FakeOffice, registrationNo: string): number {
  const numbers = fake.workbook.values(MY_SHEET_NAME, 'A1:A200').map((r) => r[0]);
  const index = numbers.indexOf(registrationNo);
  expect(index, registrationNo).toBeGreaterThan(0);
  return index + 1;
}

function cell(fake: FakeOffice, column: string, row: number): unknown {
  return fake.workbook.values(MY_SHEET_NAME, `${column}${row}`)[0]?.[0];
}

describe('我的报备', () => {
  it('lists every registration of mine with its deadlines, most urgent first, in a constant number of syncs', async () => {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const mine = createMyRegistrations({ excel: gatewayFor(fake), api: wang, now: () => svc.now() });
    const built = await mine.build();
    expect(built.rows).toBe(4);
    expect(fake.workbook.activeSheetName()).toBe(MY_SHEET_NAME);
    expect(fake.workbook.values(MY_SHEET_NAME, 'A1:S1')[0]).toEqual(HEADER);
    // The objection window (2 working days) closes first; the pending one has no deadline and comes last.
    const order = fake.workbook.values(MY_SHEET_NAME, 'A2:A5').map((r) => r[0]);
    expect(order[0]).toBe(no.lost);
    expect(order[3]).toBe(no.pending);
    const lostRow = rowOf(fake, no.lost);
    expect(cell(fake, COL.status, lostRow)).toBe('驳回');
    expect(cell(fake, COL.objectionBy, lostRow)).toMatch(/^2026-03-0\d$/);
    const a = rowOf(fake, no.approvedA);
    expect(cell(fake, COL.status, a)).toBe('保护中');
    expect(cell(fake, COL.until, a)).toMatch(/^2026-0[56]-/);
    // R28: the last day to ask is 20 days before the end.
    expect(cell(fake, COL.extensionBy, a)).not.toBe('');
    // Due within a week: amber.
    expect(fake.workbook.fills(MY_SHEET_NAME, `A${lostRow}`)[0]![0]).toBe(`#${FILLS.amber.fill}`);
    expect(fake.workbook.tables().some((t) => t.sheet === MY_SHEET_NAME)).toBe(true);
    expect(fake.syncCount()).toBeLessThanOrEqual(4);
  });

  it('applies the actions typed in 操作 — even after the sheet was sorted — and writes each outcome on its row', async () => {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const mine = createMyRegistrations({ excel: gatewayFor(fake), api: wang, now: () => svc.now() });
    await mine.build();
    // The person sorts the rows by number (descending) before typing: rows move, numbers stay with them.
    const grid = fake.workbook.values(MY_SHEET_NAME, 'A2:S5');
    const sorted = [...grid].sort((x, y) => String(y[0]).localeCompare(String(x[0])));
    fake.workbook.setValues(MY_SHEET_NAME, 'A2', sorted);
    const type = (registrationNo: string, action: string, note: string, ...rest: string[]) =>
      fake.workbook.setValues(MY_SHEET_NAME, `L${rowOf(fake, registrationNo)}`, [[action, note, ...rest]]);
    type(no.approvedA, '申请延期', '客户预算下季度审批');
    type(no.lost, '提出异议', '我方 2 月已上门拜访，有签到记录');
    // R43: way, feedback and next step in their own columns.
    type(no.approvedB, '记录跟进', '沟通方案', '2026-03-03', 'WeChat', '客户认可方案', '下周报价');
    type(no.pending, '已签约', '客户已签');
    const before = { syncs: fake.syncCount() };
    const applied = await mine.applyActions();
    expect(applied.done).toBe(3);
    // Signing a registration that is not protected is refused by the rule, named on its row.
    expect(applied.errors).toHaveLength(1);
    expect(applied.errors[0]!.registrationNo).toBe(no.pending);
    const pendingRow = rowOf(fake, no.pending);
    expect(String(cell(fake, COL.outcome, pendingRow))).toMatch(/^status\.transition|close\./);
    expect(cell(fake, COL.action, pendingRow)).toBe('已签约');
    expect(fake.workbook.fills(MY_SHEET_NAME, `A${pendingRow}`)[0]![0]).not.toBe(`#${FILLS.red.fill}`);

    expect((await wang.getRegistration(no.approvedA)).status).toBe('extension-requested');
    expect((await wang.getRegistration(no.lost)).objection?.reason).toContain('签到记录');
    const followed = await wang.getRegistration(no.approvedB);
    expect(followed.followUps).toHaveLength(1);
    expect(followed.followUps[0]).toMatchObject({
      way: '微信',
      note: '沟通方案',
      feedback: '客户认可方案',
      nextStep: '下周报价',
    });
    expect(Date.parse(followed.followUps[0]!.at)).toBe(Date.parse('2026-03-02T16:00:00.000Z'));
    for (const n of [no.approvedA, no.lost, no.approvedB]) {
      const row = rowOf(fake, n);
      expect(String(cell(fake, COL.outcome, row)), n).toMatch(/^已完成/);
      expect(cell(fake, COL.action, row), n).toBe('');
    }
    expect(cell(fake, COL.status, rowOf(fake, no.approvedA))).toBe('延期申请中');
    // Read, post each action, rebuild: the syncs do not depend on how many actions there were.
    expect(fake.syncCount() - before.syncs).toBeLessThanOrEqual(5);
  });

  it('a retry with the sheet as it was before (the answer was lost) never files an action twice', async () => {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const mine = createMyRegistrations({ excel: gatewayFor(fake), api: wang, now: () => svc.now() });
    await mine.build();
    const row = rowOf(fake, no.approvedB);
    const stale = fake.workbook.values(MY_SHEET_NAME, `A${row}:S${row}`);
    fake.workbook.setValues(MY_SHEET_NAME, `L${row}`, [['记录跟进', '上门演示']]);
    await mine.applyActions();
    expect((await wang.getRegistration(no.approvedB)).followUps).toHaveLength(2);
    // The same row, as the sheet held it before the answer came back, with the same action typed.
    const again = rowOf(fake, no.approvedB);
    fake.workbook.setValues(MY_SHEET_NAME, `A${again}`, stale);
    fake.workbook.setValues(MY_SHEET_NAME, `L${again}`, [['记录跟进', '上门演示']]);
    const retried = await mine.applyActions();
    expect(retried.done).toBe(0);
    expect(retried.errors[0]!.message).toContain('未重复提交');
    expect((await wang.getRegistration(no.approvedB)).followUps).toHaveLength(2);
  });

  it('refuses a late objection with the rule and its last day; bad rows are named without posting', async () => {
    svc.setNow('2026-03-20T02:00:00.000Z');
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const other = await register(wang, 9);
    const rival = await register(li, 9);
    await zhang.review(rival, { decision: 'approve', reason: '李娜先到' });
    svc.setNow('2026-04-10T02:00:00.000Z');
    const mine = createMyRegistrations({ excel: gatewayFor(fake), api: wang, now: () => svc.now() });
    await mine.build();
    fake.workbook.setValues(MY_SHEET_NAME, `L${rowOf(fake, other)}`, [['提出异议', '有拜访记录']]);
    fake.workbook.setValues(MY_SHEET_NAME, `L${rowOf(fake, no.pending)}`, [['改价', '']]);
    fake.workbook.setValues(MY_SHEET_NAME, `L${rowOf(fake, no.approvedB)}`, [
      ['记录跟进', '回访', '2099-01-01'],
    ]);
    const applied = await mine.applyActions();
    expect(applied.done).toBe(0);
    const messages = Object.fromEntries(applied.errors.map((e) => [e.registrationNo, e.message]));
    expect(messages[other]).toMatch(/^objection\.too_late：异议期已于 2026-03-\d\d 结束/);
    expect(messages[no.pending]).toContain('无法识别');
    expect(messages[no.approvedB]).toContain('晚于今天');
    expect((await wang.getRegistration(no.approvedB)).followUps).toHaveLength(2);
  });

  it('[R16] a share partner’s sheet lists their own share, not the other registrant’s (whose deadlines they cannot act on)', async () => {
    const client = (token: string) => createApiClient({ baseUrl: svc.url, token });
    const chen = client(await svc.user('陈晨', 'sales', '华东一部'));
    const zhou = client(await svc.user('周洁', 'sales', '华东一部'));
    const chenNo = await register(chen, 7);
    const zhouNo = await register(zhou, 7);
    await zhang.review(chenNo, { decision: 'share', shareWith: zhouNo, split: 60, reason: '资源互补' });
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const mine = createMyRegistrations({ excel: gatewayFor(fake), api: zhou, now: () => svc.now() });
    // Closing, extending and logging visits on 陈晨's share are refused to 周洁 (403), so a row of it
    // with its extension and follow-up deadlines would invite actions that cannot succeed.
    expect((await mine.build()).rows).toBe(1);
    const numbers = fake.workbook.values(MY_SHEET_NAME, 'A2:A3').map((r) => r[0]);
    expect(numbers).toEqual([zhouNo, '']);
    expect(cell(fake, 'J', 2)).toBe(40);
    // The pane's 即将到期 line reads the same list: it counts 周洁's own share only.
    const listed = await zhou.listRegistrations({ registrant: '周洁', limit: 1000 });
    expect(listed.items.map((r) => r.no).sort()).toEqual([chenNo, zhouNo].sort());
    const today = dayOf(svc.now());
    expect(expiringSummary(listed.items, '周洁', today, 20)).toEqual({ n: 1, extendable: 1 });
  });
});

describe('我的报备 at 10,000 rows', () => {
  it('a follow-up date pasted as a date in a 1904 workbook is the day shown, not four years earlier', async () => {
    const fake = createFakeOffice({
      apiVersion: '1.18',
      date1904: true,
      sheets: [{ name: 'Sheet1', values: [['']] }],
    });
    const mine = createMyRegistrations({ excel: gatewayFor(fake), api: wang, now: () => svc.now() });
    await mine.build();
    const row = rowOf(fake, no.approvedA);
    // 2026-03-03 pasted from a date cell: a serial, counted from 1904-01-01 in this workbook.
    const serial1904 = Date.UTC(2026, 2, 3) / 86_400_000 + 25_569 - DATE_1904_OFFSET_DAYS;
    fake.workbook.setValues(MY_SHEET_NAME, `L${row}`, [['记录跟进', '电话回访', serial1904]]);
    const applied = await mine.applyActions();
    expect(applied.errors).toEqual([]);
    const followed = await wang.getRegistration(no.approvedA);
    expect(followed.followUps.map((f) => Date.parse(f.at))).toContain(Date.parse('2026-03-02T16:00:00.000Z'));
  });

  it('builds and applies in as many syncs as at 100 rows', async () => {
    const big = await startTestService({ now: '2026-03-02T02:00:00.000Z' });
    try {
      const api = createApiClient({ baseUrl: big.url, token: await big.user('周杰', 'sales', '华南二部') });
      const rows = Array.from({ length: 10_000 }, (_, i) => ({
        customerName: companyNameFor(10_000 + i),
        customerType: '企业',
        creditCode: creditCodeFor(10_000 + i),
        contactPhone: phoneFor(10_000 + i),
        region: '广州',
        source: '展会',
      }));
      const syncs: number[] = [];
      for (const count of [100, 10_000]) {
        const results = await api.submit(rows.slice(syncs.length === 0 ? 0 : 100, count), `bulk-${count}`);
        expect(results.every((r) => r.registrationNo !== undefined)).toBe(true);
        const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
        const mine = createMyRegistrations({ excel: gatewayFor(fake), api, now: () => big.now() });
        const built = await mine.build();
        expect(built.rows).toBe(count);
        // Row 2 of the second build is the one withdrawn in the first (closed rows sort by number).
        fake.workbook.setValues(MY_SHEET_NAME, `L${2 + syncs.length}`, [['撤回', '客户不再需要']]);
        const applied = await mine.applyActions();
        expect(applied, JSON.stringify(applied.errors)).toMatchObject({ done: 1 });
        syncs.push(fake.syncCount());
        const payloads = fake.payloads();
        expect(Math.max(...payloads.map((p) => p.requestBytes))).toBeLessThan(5 * 1024 * 1024);
      }
      expect(syncs[1]).toBe(syncs[0]);
    } finally {
      await big.close();
    }
  }, 240_000);
});

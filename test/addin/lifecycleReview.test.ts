/**
 * The 延期与异议 sheet end to end (issue 9, reviewers): fake Excel, real service. Extension
 * requests and objections are listed with what the decision needs (dates, the ranking by claim
 * time, the reason; the winner by number and registrant only, R3); decisions filed from the sheet
 * approve/reject an extension and uphold/dismiss an objection; a wrong word or a missing reason is
 * refused on its row; rows sorted between build and apply are still matched by number; an item a
 * colleague decided meanwhile is not filed again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../addin/apiClient.js';
import { createExcelGateway, type ExcelHost } from '../../addin/excelGateway.js';
import { createLifecycleReview } from '../../addin/lifecycleReview.js';
import { LIFECYCLE_SHEET_NAME } from '../../core/lifecycleReviewPlan.js';
import { createFakeOffice, type FakeOffice } from '../fakes/fakeExcel.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';
import { at } from '../support/shanghaiTime.js';

let svc: TestService;
let reviewer: ApiClient;
let wang: ApiClient;
let wangNo: string;
let liNo: string;
let chenNo: string;
let extNo: string;

beforeAll(async () => {
  svc = await startTestService({ now: at('2026-09-28', '09:00') });
  const client = (token: string) => createApiClient({ baseUrl: svc.url, token });
  wang = client(await svc.user('王磊', 'sales', '华东一部'));
  const li = client(await svc.user('李娜', 'sales', '华东一部'));
  const chen = client(await svc.user('陈晨', 'sales', '华东一部'));
  reviewer = client(await svc.user('张敏', 'reviewer', '华东一部'));
  [wangNo, extNo] = (await wang.submit([enterpriseRow(1), enterpriseRow(7)], 'w')).map(
    (r) => r.registrationNo!,
  ) as [string, string];
  svc.setNow(at('2026-09-28', '10:00'));
  liNo = (await li.submit([{ ...enterpriseRow(1), contactPhone: '13900000002' }], 'l'))[0]!.registrationNo!;
  svc.setNow(at('2026-09-28', '11:00'));
  chenNo = (await chen.submit([{ ...enterpriseRow(1), contactPhone: '13900000003' }], 'c'))[0]!
    .registrationNo!;
  svc.setNow(at('2026-09-30'));
  await reviewer.review(wangNo, { decision: 'approve', reason: '资料齐全' });
  await reviewer.review(extNo, { decision: 'approve', reason: '资料齐全' }); // until 2026-12-29
  svc.setNow(at('2026-10-08'));
  const etag = async (api: ApiClient, no: string) => `"${(await api.getRegistration(no)).version}"`;
  await li.act(liNo, 'objection', { reason: '我方先拜访' }, await etag(li, liNo));
  await chen.act(chenNo, 'objection', { reason: '客户先联系的我' }, await etag(chen, chenNo));
  await wang.act(extNo, 'extension', { reason: '客户预算推迟' }, await etag(wang, extNo));
  svc.setNow(at('2026-10-09'));
});

afterAll(async () => {
  await svc.close();
});

function gatewayFor(fake: FakeOffice) {
  return createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost);
}

/** Row (1-based) holding this number and kind now. */
function rowOf(fake: FakeOffice, no: string, kind: string): number {
  const grid = fake.workbook.values(LIFECYCLE_SHEET_NAME, 'A1:B20');
  const i = grid.findIndex((r) => r[0] === no && r[1] === kind);
  expect(i, `${no} ${kind}`).toBeGreaterThan(0);
  return i + 1;
}

describe('延期与异议', () => {
  it('lists, refuses bad rows, survives sorting, decides, and never files twice', async () => {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const sheet = createLifecycleReview({ excel: gatewayFor(fake), api: reviewer });
    expect(await sheet.build()).toEqual({ extensions: 1, objections: 2 });
    const header = fake.workbook.values(LIFECYCLE_SHEET_NAME, 'A1:P1')[0];
    expect(header).toContain('对方报备编号');
    const liRow = fake.workbook.values(
      LIFECYCLE_SHEET_NAME,
      `A${rowOf(fake, liNo, '异议')}:L${rowOf(fake, liNo, '异议')}`,
    )[0];
    expect(liRow).toEqual([
      liNo,
      '异议',
      expect.any(String),
      '李娜',
      '',
      '',
      '2026-09-28 10:00',
      '2026-10-08 10:00',
      '我方先拜访',
      wangNo,
      '王磊',
      '2026-09-28 09:00',
    ]);
    const extRow = fake.workbook.values(
      LIFECYCLE_SHEET_NAME,
      `A${rowOf(fake, extNo, '延期申请')}:I${rowOf(fake, extNo, '延期申请')}`,
    )[0];
    expect(extRow).toEqual([
      extNo,
      '延期申请',
      expect.any(String),
      '王磊',
      '2026-09-30',
      '2026-12-29',
      '',
      '2026-10-08 10:00',
      '客户预算推迟',
    ]);

    // Sort the body (reverse it) as a person might, then type the decisions on the rows as they are now.
    const body = fake.workbook.values(LIFECYCLE_SHEET_NAME, 'A2:P4');
    fake.workbook.setValues(LIFECYCLE_SHEET_NAME, 'A2:P4', [...body].reverse());
    const decide = (no: string, kind: string, word: string, reason: string) =>
      fake.workbook.setValues(LIFECYCLE_SHEET_NAME, `N${rowOf(fake, no, kind)}:O${rowOf(fake, no, kind)}`, [
        [word, reason],
      ]);
    decide(extNo, '延期申请', '支持', '同意'); // a word of the other kind: refused on its row
    decide(chenNo, '异议', '支持', '来电记录属实');
    decide(liNo, '异议', '驳回', '无证据');

    const first = await sheet.apply();
    // Chen's row comes first (the body was reversed): upholding it reverses Wang's grant, which
    // closes Li's objection to that grant (R12) before Li's row is reached; the row says so.
    expect(first.decided).toBe(1);
    expect(first.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ registrationNo: extNo, message: expect.stringContaining('批准 或 驳回') }),
        expect.objectContaining({
          registrationNo: liNo,
          message: expect.stringContaining('objection.superseded'),
        }),
      ]),
    );
    expect(first.errors).toHaveLength(2);
    // Uphold: chen protected, wang terminated; li's objection closed, li stays rejected. Li's row
    // leaves the rebuilt sheet with the other decided ones; the pane shows the message returned.
    expect((await reviewer.getRegistration(chenNo)).status).toBe('protected');
    expect((await reviewer.getRegistration(wangNo)).status).toBe('terminated');
    expect((await reviewer.getRegistration(liNo)).objection?.decision).toBe('dismissed');
    const outcomes = fake.workbook.values(LIFECYCLE_SHEET_NAME, 'A1:P10').map((r) => [r[0], r[15]]);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        [chenNo, expect.stringContaining('已支持异议')],
        [extNo, expect.stringContaining('批准 或 驳回')],
      ]),
    );

    // The extension row kept what was typed; fix it, but a colleague approves it first.
    decide(extNo, '延期申请', '批准', '同意延期');
    await reviewer.reviewExtension(extNo, { decision: 'reject', reason: '同事已处理' });
    const second = await sheet.apply();
    expect(second.decided).toBe(0);
    expect(second.errors).toEqual([
      expect.objectContaining({ registrationNo: extNo, message: expect.stringContaining('未重复提交') }),
    ]);
    // Rejected by the colleague, not approved by the retry: protection unchanged.
    expect((await reviewer.getRegistration(extNo)).protectedUntil).toBe('2026-12-29');
  });

  it('approves an extension from the sheet: protection extended, the row says until when', async () => {
    svc.setNow(at('2026-10-09', '11:00'));
    const etag = `"${(await wang.getRegistration(extNo)).version}"`;
    await wang.act(extNo, 'extension', { reason: '再次申请：客户三月签约' }, etag);
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const sheet = createLifecycleReview({ excel: gatewayFor(fake), api: reviewer });
    expect(await sheet.build()).toEqual({ extensions: 1, objections: 0 });
    const row = rowOf(fake, extNo, '延期申请');
    fake.workbook.setValues(LIFECYCLE_SHEET_NAME, `N${row}:O${row}`, [['批准', '同意延期']]);
    expect(await sheet.apply()).toEqual({ decided: 1, errors: [] });
    const record = await reviewer.getRegistration(extNo);
    expect(record.status).toBe('protected');
    expect(record.protectedUntil! > '2026-12-29').toBe(true);
    expect(fake.workbook.values(LIFECYCLE_SHEET_NAME, 'P2:P2')[0]![0]).toContain(
      `保护至 ${record.protectedUntil}`,
    );
  });
});

describe('延期与异议 at scale (fake Excel; synthetic items through the real plan and gateway)', () => {
  function synthetic(n: number) {
    return {
      extensions: Array.from({ length: n / 2 }, (_, i) => ({
        registrationNo: `BB-2026-${String(i).padStart(6, '0')}`,
        customer: `客户${i}`,
        registrant: '王磊',
        protectedFrom: '2026-09-30',
        protectedUntil: '2026-12-29',
        requestedAt: '2026-10-08T02:00:00.000Z',
        reason: '客户预算推迟，需要更多时间',
      })),
      objections: Array.from({ length: n / 2 }, (_, i) => ({
        registrationNo: `BB-2026-${String(500_000 + i).padStart(6, '0')}`,
        customer: `客户${i}`,
        registrant: '李娜',
        claimedAt: '2026-09-28T02:00:00.000Z',
        objectedAt: '2026-10-08T02:00:00.000Z',
        reason: '我方先拜访',
        against: {
          registrationNo: `BB-2026-${String(900_000 + i).padStart(6, '0')}`,
          registrant: '王磊',
          claimedAt: '2026-09-28T01:00:00.000Z',
        },
      })),
    };
  }

  async function syncsFor(n: number): Promise<{ build: number; apply: number; maxRequest: number }> {
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: 'Sheet1', values: [['']] }] });
    const data = synthetic(n);
    const api = { reviewActions: () => Promise.resolve(data) } as unknown as ApiClient;
    const sheet = createLifecycleReview({ excel: gatewayFor(fake), api });
    await sheet.build();
    const built = fake.syncCount();
    // Nothing typed: apply reads, files nothing and rebuilds.
    expect(await sheet.apply()).toEqual({ decided: 0, errors: [] });
    return {
      build: built,
      apply: fake.syncCount() - built,
      maxRequest: Math.max(...fake.payloads().map((p) => p.requestBytes)),
    };
  }

  it('the same number of syncs at 100 and 10,000 rows', async () => {
    const small = await syncsFor(100);
    const large = await syncsFor(10_000);
    expect(large.build).toBe(small.build);
    expect(large.apply).toBe(small.apply);
    expect(large.maxRequest).toBeLessThan(5 * 1024 * 1024);
    console.log(
      '延期与异议 syncs build/apply (100 / 10,000):',
      `${small.build}/${small.apply} / ${large.build}/${large.apply}`,
      'max request bytes:',
      large.maxRequest,
    );
  });
});

/**
 * Legacy cells through the add-in's workflows over the fake Excel, as the import and the Google Sheets
 * sync read them (core/row.ts, core/cellText.ts, core/money.ts): placeholders in optional cells are
 * blank and never a customer, a blank 报备人 is missing, a spread group unit scales only its amounts.
 * The real service over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiClient } from '../../addin/apiClient.js';
import { createExcelGateway, type ExcelHost } from '../../addin/excelGateway.js';
import { createWorkflows } from '../../addin/workflows.js';
import { createFakeOffice, type FakeCell } from '../fakes/fakeExcel.js';
import { startTestService, type TestService } from '../support/testService.js';

const SHEET = '报备登记';

let svc: TestService;
beforeEach(async () => {
  svc = await startTestService({ now: '2026-11-23T02:00:00.000Z' });
});
afterEach(async () => {
  await svc.close();
});

describe('add-in: legacy cells', () => {
  it('reads placeholders as blank, refuses a blank 报备人 and scales only the amounts under a spread 万元', async () => {
    const values: FakeCell[][] = [
      [
        '客户名称',
        '客户类型',
        '地址',
        '联系人',
        '联系电话',
        '客户来源',
        '报备人',
        '预计金额（万元）',
        '',
        '',
      ],
      ['', '', '', '', '', '', '', '预计签约金额', '备注', '预计签约单价'],
      [
        '上海甲乙丙科技有限公司',
        '企业',
        '上海市浦东新区张江路1号',
        '未填写',
        'N.A.',
        '展会',
        '王磊',
        50,
        '二期',
        3000,
      ],
      ['N.A.', '企业', '北京市海淀区中关村大街1号', '张三', '13912345671', '展会', '王磊', '', '', ''],
      ['N.A.', '企业', '广州市天河区体育西路1号', '李四', '13912345672', '展会', '王磊', '', '', ''],
      [
        '杭州云帆网络科技有限公司',
        '企业',
        '杭州市西湖区文三路1号',
        '王五',
        '13912345673',
        '展会',
        '',
        '',
        '',
        '',
      ],
    ];
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: SHEET, values }] });
    const workflows = createWorkflows({
      excel: createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost),
      api: createApiClient({ baseUrl: svc.url, token: svc.adminToken }),
      now: () => svc.now(),
      progress: () => undefined,
    });
    const setup = await workflows.detect();
    const summary = await workflows.submit(setup);
    expect(summary.invalidBeforeSend).toBe(3);

    const { items } = await createApiClient({ baseUrl: svc.url, token: svc.adminToken }).listRegistrations({
      limit: 10,
    });
    expect(items.map((r) => r.registration.customerName)).toEqual(['上海甲乙丙科技有限公司']);
    const registration = items[0]!.registration;
    expect(registration).not.toHaveProperty('contactName');
    expect(registration).not.toHaveProperty('contactPhone');
    expect([registration.expectedAmount, registration.expectedUnitPrice]).toEqual([500_000, 3000]);

    const notes = new Map(fake.workbook.notes(SHEET).map((n) => [n.address, n.content]));
    // The same wording as the import's report and the sync's note.
    expect(notes.get('A4')).toContain('客户名称不能为空（「N.A.」表示未填写）');
    expect(notes.get('G6')).toContain('报备人不能为空：表中有报备人列时，空白不由提交人代填');
  });

  it('reads 首年 under 预计金额（万元） as the expected amount in 万元, and leaves 次年 unmapped', async () => {
    const values: FakeCell[][] = [
      ['客户名称', '客户类型', '地址', '联系电话', '客户来源', '报备人', '预计金额（万元）', ''],
      ['', '', '', '', '', '', '首年', '次年'],
      ['上海甲乙丙科技有限公司', '企业', '上海市浦东新区张江路1号', '13912345671', '展会', '王磊', 50, 80],
    ];
    const fake = createFakeOffice({ apiVersion: '1.18', sheets: [{ name: SHEET, values }] });
    const api = createApiClient({ baseUrl: svc.url, token: svc.adminToken });
    const workflows = createWorkflows({
      excel: createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost),
      api,
      now: () => svc.now(),
      progress: () => undefined,
    });
    const setup = await workflows.detect();
    expect(setup.columns.filter((c) => c.group !== undefined).map((c) => [c.header, c.field])).toEqual([
      ['首年', 'expectedAmount'],
      ['次年', null],
    ]);
    await workflows.submit(setup);
    const { items } = await api.listRegistrations({ limit: 10 });
    expect(items.map((r) => r.registration.expectedAmount)).toEqual([500_000]);
  });
});

/**
 * The task pane in real Chromium, loaded from the real service, with Excel faked: office.js is
 * answered by the in-memory fake (test/fakes/fakeExcel.ts) holding a legacy-looking sheet, every
 * other file comes from the service as in Excel, and any request to another host is refused and
 * recorded. Clicks through Connect → Prepare → Submit → (a reviewer approves) → Refresh and checks
 * what landed in the fake workbook; uploads a legacy CSV; saves a screenshot to test-output/.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILLS, INVALID_CELL_FILL, LEGEND, LEGEND_TITLE } from '../../core/annotation.js';
import type { FakeCell, FakeOffice } from '../fakes/fakeExcel.js';
import { OFFICE_JS_CDN } from '../../server/http/addinRoutes.js';
import { enterpriseRow } from '../support/customers.js';
import { PaneBrowser, waitForMessage, workbookValues } from '../support/paneBrowser.js';
import { startTestService, type TestService } from '../support/testService.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const SCREENSHOT = path.join(REPO, 'test-output', 'addin-taskpane.png');
const LEGACY_CSV = path.resolve(REPO, '..', 'shared', 'samples', 'v3-utf8-bom.csv');
const SHEET = '客户报备';

/** A sheet as sales staff keep it: a title, a note, then the header; one phone is wrong. */
const LEGACY_SHEET: FakeCell[][] = [
  ['2026年华东一部客户报备登记表'],
  ['填表说明：每行一个客户；联系电话填手机号或带区号的固话'],
  [
    '序号',
    '客户名称',
    '客户类型',
    '统一社会信用代码',
    '联系人',
    '联系电话',
    '所在地区',
    '客户来源',
    '报备人',
    '备注',
  ],
  [
    1,
    '上海华信科技有限公司',
    '企业',
    '91310115037061499U',
    '张伟',
    '13812345678',
    '上海',
    '展会',
    '王磊',
    '老客户介绍',
  ],
  [
    2,
    '苏州恒通精密制造有限公司',
    '企业',
    '913205053816595452',
    '李娜',
    '13987654321',
    '苏州',
    '电话开发',
    '王磊',
    '',
  ],
  [3, '杭州云杉信息技术有限公司', '企业', '', '赵强', '1381234', '杭州', '官网', '王磊', ''],
  [4, '王建国', '个人', '', '王建国', '15900001111', '上海', '朋友介绍', '王磊', 'VIP'],
  ['合计', '4 家'],
];
/** Rows 4–7 of the sheet; the result columns land right of 备注 (J): K 报备编号, L 状态, M 保护截止, N 冲突说明. */
const RESULTS = 'K4:N7';

/** What the test reads of the fake workbook inside the page. */
type WorkbookView = Pick<FakeOffice['workbook'], 'values' | 'fills' | 'tables' | 'notes' | 'selection'>;

async function inWorkbook<T>(page: Page, read: (workbook: WorkbookView) => T): Promise<T> {
  // The function is serialised into the page, where the installer left the fake on window.
  return page.evaluate(`(${read.toString()})(window.__fakeOffice.workbook)`) as Promise<T>;
}

async function resultValues(page: Page): Promise<(string | number | boolean)[][]> {
  return workbookValues(page, SHEET, RESULTS);
}

async function rowFills(page: Page, address: string): Promise<(string | null)[][]> {
  return page.evaluate(
    ([sheet, range]) =>
      (window as unknown as { __fakeOffice: FakeOffice }).__fakeOffice.workbook.fills(sheet, range),
    [SHEET, address] as const,
  );
}

describe('the task pane in Chromium, against the real service, with Excel faked', () => {
  let service: TestService;
  let origin: string;
  let pane: PaneBrowser;
  let salesToken: string;
  let reviewerToken: string;

  beforeAll(async () => {
    service = await startTestService();
    origin = `http://127.0.0.1:${new URL(service.url).port}`;
    salesToken = await service.user('王磊', 'sales', '华东一部');
    reviewerToken = await service.user('陈主管', 'reviewer', '华东一部');
    pane = await PaneBrowser.launch(origin, {
      sheets: [{ name: SHEET, values: LEGACY_SHEET, active: true }],
    });
  }, 120_000);

  afterAll(async () => {
    await pane?.close();
    await service?.close();
  });

  function openPane(): Promise<{ context: BrowserContext; page: Page }> {
    return pane.openPane({ acceptDownloads: true });
  }

  function connect(page: Page, token: string): Promise<string> {
    return pane.connect(page, token, ['success']);
  }

  it('Connect → Prepare → Submit → approval → Refresh writes numbers, statuses and fills into the sheet', async () => {
    const { context, page } = await openPane();
    try {
      // zh-CN by default (the fake Office speaks zh-CN); the sheet steps wait for Office.onReady.
      await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
      expect(await page.locator('#host-banner').isHidden()).toBe(true);
      await connect(page, salesToken);
      // A sales user has no review step; the steps are numbered as shown.
      expect(await page.locator('#step-review').isHidden()).toBe(true);
      expect(await page.locator('#step-mine .step-number').innerText()).toBe('4');
      expect(await page.locator('#step-pool .step-number').innerText()).toBe('5');
      expect(await page.locator('#step-upload .step-number').innerText()).toBe('6');
      // The token is kept for the session only, never in localStorage.
      const stored = await page.evaluate(() => ({
        local: JSON.stringify(window.localStorage),
        session: window.sessionStorage.getItem('baobei.token'),
      }));
      expect(stored.local).not.toContain(salesToken);
      expect(stored.session).toBe(salesToken);

      // Prepare: detect the header under the title and note rows.
      await page.locator('#detect').click();
      await page.locator('#detect-summary').waitFor({ state: 'visible' });
      const summary = await page.locator('#detect-summary').innerText();
      expect(summary).toContain(`工作表“${SHEET}”`);
      expect(summary).toContain('第 3 行');
      const rows = page.locator('#mapping tbody tr');
      await expect.poll(() => rows.count()).toBe(10);
      const notesRow = page.locator('#mapping tbody tr[data-column="J"]');
      expect(await notesRow.locator('.header-text').innerText()).toBe('备注');
      // The person decides 备注 is not to be imported.
      await notesRow.locator('fluent-select').click();
      await notesRow.locator('fluent-option[value="-"]').click();
      await expect
        .poll(() => notesRow.locator('fluent-select').evaluate((el) => (el as HTMLSelectElement).value))
        .toBe('-');
      expect(await notesRow.getAttribute('class')).toContain('ignored');
      expect(await notesRow.locator('.confidence').innerText()).toBe('手动');

      await page.locator('#apply').click();
      const applied = await waitForMessage(page);
      expect(applied).toContain('已把表格转为 Excel 表');
      expect(applied).toMatch(/1 行共 \d+ 个单元格不符合要求/);
      const afterApply = await inWorkbook(page, (wb) => ({
        header: wb.values('客户报备', 'K3:O3'),
        tables: wb.tables(),
      }));
      expect(afterApply.header).toEqual([['报备编号', '状态', '保护截止', '冲突说明', '提示']]);
      expect(afterApply.tables).toHaveLength(1);
      expect(afterApply.tables[0]!.address).toMatch(/^A3:O7$/);

      // Submit: three valid rows registered, the bad phone row invalid and never sent.
      await page.locator('#submit').click();
      expect(await waitForMessage(page)).toContain('提交完成');
      const submitted = await resultValues(page);
      const numbers = submitted.map((r) => String(r[0]));
      expect(numbers[0]).toMatch(/^BB-2026-\d{6}$/);
      expect(numbers[1]).toMatch(/^BB-2026-\d{6}$/);
      expect(numbers[2]).toBe('');
      expect(numbers[3]).toMatch(/^BB-2026-\d{6}$/);
      expect(submitted.map((r) => r[1])).toEqual(['待审核', '待审核', '信息有误', '待审核']);
      expect(String(submitted[2]![3])).toContain('联系电话');
      const chips = await page.locator('#run-summary .status-count').allInnerTexts();
      expect(chips).toContain('待审核 3');
      // The total row under the data: not sent, said so on the row (提示, O) and in the pane.
      expect(await workbookValues(page, SHEET, 'K8:O8')).toEqual([
        ['', '', '', '', '合计行，未登记 / Total row, not registered'],
      ]);
      expect(await page.locator('#run-summary .summary-note').allInnerTexts()).toContain(
        '1 行是填写示例、合计、说明或重复的表头，未登记（见该行“提示”）',
      );

      // The ignored column was not sent.
      const first = await service
        .api(salesToken)
        .get<{ registration: { notes?: string } }>(`/api/registrations/${numbers[0]}`);
      expect(first.status).toBe(200);
      expect(first.body.registration.notes).toBeUndefined();

      // A reviewer approves the first customer through the API.
      const approval = await service.api(reviewerToken).post(`/api/registrations/${numbers[0]}/review`, {
        decision: 'approve',
        reason: '资料齐全，同意保护',
      });
      expect(approval.status, JSON.stringify(approval.body)).toBe(200);

      // Refresh: the approved row turns 保护中 with its last protected day, and green.
      await page.locator('#refresh').click();
      expect(await waitForMessage(page)).toContain('状态已更新');
      const refreshed = await resultValues(page);
      expect(refreshed[0]![0]).toBe(numbers[0]);
      expect(refreshed[0]![1]).toBe('保护中');
      expect(String(refreshed[0]![2])).toMatch(/^2027-02-2\d$/);
      expect(refreshed[1]![1]).toBe('待审核');
      expect(refreshed[3]![1]).toBe('待审核');
      const fills = {
        protected: (await rowFills(page, 'B4'))[0]![0],
        pending: (await rowFills(page, 'B5'))[0]![0],
        invalidPhone: (await rowFills(page, 'F6'))[0]![0],
      };
      expect(fills.protected?.toUpperCase()).toContain(FILLS.green.fill);
      expect(fills.pending?.toUpperCase()).toContain(FILLS.paleBlue.fill);
      expect(fills.invalidPhone?.toUpperCase()).toContain(FILLS[INVALID_CELL_FILL].fill);

      // The colour key under the run step: one line per fill, each with the sheet's colour.
      const legend = page.locator('#legend details');
      expect(await legend.locator('summary').innerText()).toBe(LEGEND_TITLE.zh);
      await legend.locator('summary').click();
      const lines = legend.locator('li');
      expect(await lines.count()).toBe(LEGEND.length + 1);
      expect(await lines.first().locator('.legend-name').innerText()).toBe(LEGEND[0]!.zh);
      const swatches = await lines
        .locator('.legend-swatch')
        .evaluateAll((els) => els.map((el) => getComputedStyle(el).backgroundColor));
      expect(swatches).toEqual(
        [...LEGEND.map((e) => e.fill), INVALID_CELL_FILL].map((f) => {
          const hex = FILLS[f].fill;
          const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
          return `rgb(${r}, ${g}, ${b})`;
        }),
      );

      // Notifications (issue 9): the approval is there, unread; clicking it shows the registration's row.
      await expect.poll(() => page.locator('#unread-badge').innerText()).toBe('1');
      const notice = page.locator('#notice-list li.unread-item button').first();
      expect(await notice.innerText()).toContain(numbers[0]!);
      await notice.click();
      expect(await waitForMessage(page, ['success'])).toContain(`已选中 ${numbers[0]}`);
      const selected = await inWorkbook(page, (wb) => wb.selection());
      expect(selected?.sheet).toBe('我的报备');
      const selectedNo = await page.evaluate(
        ([cell]) =>
          (window as unknown as { __fakeOffice: FakeOffice }).__fakeOffice.workbook.values(
            '我的报备',
            cell,
          )[0]![0],
        [selected!.address.split(':')[0]!] as const,
      );
      expect(selectedNo).toBe(numbers[0]);
      await expect.poll(() => page.locator('#unread-badge').isHidden()).toBe(true);

      // 我的报备: the approved customer first (its deadlines are the nearest), then a follow-up from the sheet.
      await page.locator('#mine-build').click();
      expect(await waitForMessage(page, ['success'])).toContain('我的报备：3 条');
      const mine = await inWorkbook(page, (wb) => wb.values('我的报备', 'A1:C4'));
      expect(mine[0]).toEqual(['报备编号', '客户名称', '状态']);
      expect(mine[1]![0]).toBe(numbers[0]);
      expect(mine[1]![2]).toBe('保护中');
      await page.evaluate(
        ([row]) =>
          (window as unknown as { __fakeOffice: FakeOffice }).__fakeOffice.workbook.setValues(
            '我的报备',
            `L${row}`,
            [['记录跟进', '电话沟通，客户要报价']],
          ),
        [2] as const,
      );
      await page.locator('#mine-apply').click();
      expect(await waitForMessage(page, ['success'])).toContain('已执行 1 项操作');
      const followed = await service
        .api(salesToken)
        .get<{ followUps: { note: string }[] }>(`/api/registrations/${numbers[0]}`);
      expect(followed.body.followUps.map((f) => f.note)).toEqual(['电话沟通，客户要报价']);
      expect(await inWorkbook(page, (wb) => wb.values('我的报备', 'R2')[0]![0])).toBe('已完成：记录跟进');

      await page.evaluate(() => window.scrollTo(0, 0));
      await mkdir(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      await context.close();
    }
    expect(pane.foreignRequests).toEqual([]);
    expect(pane.pageProblems).toEqual([]);
  }, 120_000);

  it('says how many 提示 texts were left for the next run when rows moved while submit was on the wire', async () => {
    const { context, page } = await openPane();
    try {
      await connect(page, salesToken);
      await page.locator('#detect').click();
      await page.locator('#detect-summary').waitFor({ state: 'visible' });
      await page.locator('#apply').click();
      await waitForMessage(page);
      // A row inserted above the title while the rows are on the wire: the header moves, so the
      // total row's text cannot be placed safely and waits for the next run.
      let inserted = false;
      await page.route(
        (url) => url.pathname === '/api/registrations',
        async (route) => {
          if (route.request().method() === 'POST' && !inserted) {
            inserted = true;
            await page.evaluate((sheet) => {
              const workbook = (window as unknown as { __fakeOffice: FakeOffice }).__fakeOffice.workbook;
              const all = workbook.values(sheet, 'A1:J8');
              workbook.setValues(sheet, 'A1:J9', [Array.from({ length: 10 }, () => ''), ...all]);
            }, SHEET);
          }
          await route.continue();
        },
      );
      await page.locator('#submit').click();
      await waitForMessage(page);
      expect(inserted).toBe(true);
      const notes = await page.locator('#run-summary .summary-note').allInnerTexts();
      expect(notes).toContain('1 行是填写示例、合计、说明或重复的表头，未登记（见该行“提示”）');
      expect(notes).toContain(
        '1 条“提示”这次没有写入：处理期间有行被插入、删除或排序，无法确定它们所在的行；下次运行时会写入',
      );
    } finally {
      await context.close();
    }
    expect(pane.foreignRequests).toEqual([]);
    expect(pane.pageProblems).toEqual([]);
  }, 120_000);

  it('a reviewer builds the 待审核 sheet, types a decision and sends it', async () => {
    const row = enterpriseRow(9001, { registrant: '王磊', clientRowId: 'review' });
    const submitted = await service
      .api(salesToken)
      .post<{ results: { registrationNo?: string; status: string }[] }>('/api/registrations', {
        rows: [row],
      });
    expect(submitted.status).toBe(200);
    const no = submitted.body.results[0]!.registrationNo!;
    expect(submitted.body.results[0]!.status).toBe('pending');

    const { context, page } = await openPane();
    try {
      await connect(page, reviewerToken);
      expect(await waitForMessage(page, ['success'])).toContain('你有审核权限');
      expect(await page.locator('#step-review').isVisible()).toBe(true);
      expect(await page.locator('#step-upload .step-number').innerText()).toBe('7');

      await page.locator('#review-build').click();
      expect(await waitForMessage(page)).toMatch(/已建立待审核表：\d+ 个客户/);
      // The reviewer types 通过 and a reason on the row of that registration, as in Excel.
      const sheetRow = await page.evaluate((registrationNo) => {
        const workbook = (window as unknown as { __fakeOffice: FakeOffice }).__fakeOffice.workbook;
        const numbers = workbook.values('待审核', 'D1:D200').map((r) => r[0]);
        const at = numbers.indexOf(registrationNo) + 1;
        workbook.setValues('待审核', `O${at}:P${at}`, [['通过', '资料齐全，同意保护']]);
        return { at, active: workbook.activeSheetName(), header: workbook.values('待审核', 'O1:P1')[0] };
      }, no);
      expect(sheetRow.at).toBeGreaterThan(1);
      expect(sheetRow.active).toBe('待审核');
      expect(sheetRow.header).toEqual(['决定', '处理意见']);

      await page.locator('#review-apply').click();
      expect(await waitForMessage(page)).toContain('已提交 1 个审核决定');
      const record = await service.api(reviewerToken).get<{ status: string }>(`/api/registrations/${no}`);
      expect(record.body.status).toBe('protected');
    } finally {
      await context.close();
    }
    expect(pane.foreignRequests).toEqual([]);
    expect(pane.pageProblems).toEqual([]);
  }, 120_000);

  it('an administrator is told on connect that next year’s working days are missing (issue 17)', async () => {
    // From 1 November the service warns when the coming year has no official schedule.
    service.setNow('2026-11-23T02:00:00.000Z');
    const { context, page } = await openPane();
    try {
      await expect
        .poll(() => page.locator('#service-url').evaluate((el) => (el as HTMLInputElement).value))
        .toBe(origin);
      await page.locator('#token input').fill(service.adminToken);
      await page.locator('#connect').click();
      const text = await waitForMessage(page, ['warning']);
      expect(text).toContain('已连接');
      expect(text).toContain('服务提醒管理员处理');
      expect(text).toContain('2027');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('uploads a legacy CSV, shows the summary and offers the annotated workbook', async () => {
    const { context, page } = await openPane();
    try {
      await connect(page, salesToken);
      await page.locator('#upload-file').setInputFiles(LEGACY_CSV);
      expect(await page.locator('#upload-file-name').innerText()).toBe('v3-utf8-bom.csv');
      await page.locator('#upload').click();
      expect(await waitForMessage(page)).toContain('上传完成');
      const summary = await page.locator('#upload-summary').innerText();
      expect(summary).toContain('v3-utf8-bom.csv');
      expect(summary).toContain('只检查，没有保存');
      const chips = await page.locator('#upload-summary .status-count').allInnerTexts();
      expect(chips.length).toBeGreaterThan(0);

      const link = page.locator('#upload-download');
      await link.waitFor({ state: 'visible' });
      expect(await link.getAttribute('href')).toMatch(/^blob:/);
      expect(await link.getAttribute('download')).toBe('v3-utf8-bom.checked.xlsx');
      // Clicking it saves the workbook itself (an .xlsx is a zip: PK…).
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toBe('v3-utf8-bom.checked.xlsx');
      const saved = await readFile((await download.path())!);
      expect(saved.subarray(0, 2).toString('latin1')).toBe('PK');
      expect(saved.length).toBeGreaterThan(1000);

      // A web page "exported to Excel" as .xls (the picker offers .xls): told what to do with it.
      expect(await page.locator('#upload-file').getAttribute('accept')).toContain('.xls');
      await page.locator('#upload-file').setInputFiles({
        name: '导出.xls',
        mimeType: 'application/vnd.ms-excel',
        buffer: Buffer.from('<html><body><table><tr><td>客户名称</td></tr></table></body></html>'),
      });
      await page.locator('#upload').click();
      expect(await waitForMessage(page, ['error'])).toContain('另存为 .xlsx');
      await page.locator('#upload-file').setInputFiles(LEGACY_CSV);
      await page.locator('#upload').click();
      expect(await waitForMessage(page)).toContain('上传完成');

      // English on request.
      await page.locator('#language-toggle').click();
      expect(await page.locator('#upload-summary').innerText()).toContain('Checked only');
      expect(await page.locator('h1').innerText()).toBe('Customer registration');
      expect(await page.locator('#message').innerText()).toContain('Uploaded');
    } finally {
      await context.close();
    }
    expect(pane.foreignRequests).toEqual([]);
    expect(pane.pageProblems).toEqual([]);
  }, 120_000);

  it('loads office.js from Microsoft; an old webview (Trident/EdgeHTML) gets a readable message, not a dead pane', async () => {
    const html = await (await fetch(`${origin}/addin/taskpane.html`)).text();
    expect(html).toContain(`src="${OFFICE_JS_CDN}"`);
    expect(html).not.toContain('vendor/office.js');

    const { context, page } = await pane.openPane({
      viewport: { width: 380, height: 600 },
      // Office on Windows hosting add-ins in EdgeHTML (Edge 18) says so in its user agent.
      userAgent:
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; WebView/3.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045',
    });
    try {
      const alert = page.locator('.too-old');
      await alert.waitFor();
      const text = await alert.innerText();
      expect(text).toContain('此 Excel 版本过旧');
      expect(text).toContain('Excel on the web');
      expect(await page.locator('#connect').count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 60_000);
});

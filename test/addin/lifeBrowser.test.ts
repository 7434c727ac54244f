/**
 * The whole life of a registration clicked through the task pane in real Chromium (issue 9), against
 * the real service, with Excel faked (test/fakes/fakeExcel.ts answers office.js): a competitor
 * registers first, sales registers the same customer from the sheet → the reviewer approves the
 * competitor in 待审核 → the loser sees the notification, opens 我的报备 and files an objection from
 * the 操作 column → the reviewer upholds it → the holder asks for an extension → the reviewer
 * approves → the administrator manages users and the policy, and hands the holder's customers to a
 * colleague. A screenshot of each pane state goes to test-output/life/.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeCell, FakeOffice } from '../fakes/fakeExcel.js';
import { enterpriseRow } from '../support/customers.js';
import { PaneBrowser, waitForMessage, workbookValues } from '../support/paneBrowser.js';
import { startTestService, type TestService } from '../support/testService.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const SHOTS = path.join(REPO, 'test-output', 'life');
const SHEET = '客户报备';
const LIFECYCLE = '延期与异议';
const CUSTOMER = enterpriseRow(7301);

/** One customer, as sales keep it: header in row 1; results land right of 报备人 (H): I 报备编号, J 状态. */
const SALES_SHEET: FakeCell[][] = [
  ['客户名称', '客户类型', '统一社会信用代码', '联系人', '联系电话', '所在地区', '客户来源', '报备人'],
  [
    String(CUSTOMER.customerName),
    '企业',
    String(CUSTOMER.creditCode),
    '张伟',
    '13812340001',
    '上海',
    '展会',
    '王磊',
  ],
];

const sheetValues = workbookValues;

async function setSheetValues(page: Page, sheet: string, range: string, values: string[][]): Promise<void> {
  await page.evaluate(
    ([s, r, v]) =>
      (window as unknown as { __fakeOffice: FakeOffice }).__fakeOffice.workbook.setValues(s, r, v),
    [sheet, range, values] as const,
  );
}

/** The 1-based sheet row whose column holds `no` (row identity is the registration number). */
async function rowOf(page: Page, sheet: string, column: string, no: string): Promise<number> {
  const values = await sheetValues(page, sheet, `${column}1:${column}300`);
  const at = values.findIndex((r) => r[0] === no);
  expect(at, `${no} in ${sheet}!${column}`).toBeGreaterThan(0);
  return at + 1;
}

describe('the life of a registration, clicked through the pane in Chromium', () => {
  let service: TestService;
  let origin: string;
  let pane: PaneBrowser;
  let wang: string;
  let li: string;
  let reviewer: string;
  let shot = 0;

  beforeAll(async () => {
    service = await startTestService();
    origin = `http://127.0.0.1:${new URL(service.url).port}`;
    wang = await service.user('王磊', 'sales', '华东一部');
    // A reviewer decides for their own team: the competitor is a colleague of the same team.
    li = await service.user('李娜', 'sales', '华东一部');
    await service.user('赵强', 'sales', '华东一部');
    reviewer = await service.user('陈主管', 'reviewer', '华东一部');
    pane = await PaneBrowser.launch(origin, { sheets: [{ name: SHEET, values: SALES_SHEET, active: true }] });
    await mkdir(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await pane?.close();
    await service?.close();
  });

  function openPane(): Promise<{ context: BrowserContext; page: Page }> {
    return pane.openPane();
  }

  function connect(page: Page, token: string): Promise<string> {
    return pane.connect(page, token);
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    shot += 1;
    await page.screenshot({
      path: path.join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`),
      fullPage: true,
    });
  }

  it('register → competitor approved → objection upheld → extension approved → hand-over, with admin users and policy', async () => {
    // The competitor registered the customer first (through the API: she is not the one at the pane).
    const first = await service
      .api(li)
      .post<{ results: { registrationNo?: string; status: string }[] }>('/api/registrations', {
        rows: [{ ...CUSTOMER, contactPhone: '13900000002', registrant: '李娜' }],
      });
    expect(first.status).toBe(200);
    const liNo = first.body.results[0]!.registrationNo!;

    // 1. Sales registers the same customer from the sheet.
    let wangNo: string;
    {
      const { context, page } = await openPane();
      try {
        await connect(page, wang);
        expect(await page.locator('#step-admin').isHidden()).toBe(true);
        await page.locator('#detect').click();
        await page.locator('#detect-summary').waitFor({ state: 'visible' });
        await page.locator('#apply').click();
        await waitForMessage(page);
        await page.locator('#submit').click();
        expect(await waitForMessage(page)).toContain('提交完成');
        const results = await sheetValues(page, SHEET, 'I2:J2');
        wangNo = String(results[0]![0]);
        expect(wangNo).toMatch(/^BB-2026-\d{6}$/);
        await screenshot(page, 'sales-registered');
      } finally {
        await context.close();
      }
    }

    // 2. The reviewer approves the competitor in the 待审核 sheet.
    {
      const { context, page } = await openPane();
      try {
        await connect(page, reviewer);
        await page.locator('#review-build').click();
        expect(await waitForMessage(page)).toMatch(/已建立待审核表/);
        const at = await rowOf(page, '待审核', 'D', liNo);
        // Both registrations are in one group: the competitor's is ranked first.
        await rowOf(page, '待审核', 'D', wangNo);
        await setSheetValues(page, '待审核', `O${at}:P${at}`, [['通过', '先报备且资料齐全']]);
        await page.locator('#review-apply').click();
        expect(await waitForMessage(page)).toContain('已提交 1 个审核决定');
        await screenshot(page, 'reviewer-approved-competitor');
      } finally {
        await context.close();
      }
    }
    const lost = await service
      .api(wang)
      .get<{ status: string; objectionDeadline?: string }>(`/api/registrations/${wangNo}`);
    expect(lost.body.status).toBe('rejected');
    expect(lost.body.objectionDeadline).toBeDefined();

    // 3. The loser sees the notification, opens 我的报备 from it and objects from the 操作 column.
    {
      const { context, page } = await openPane();
      try {
        await connect(page, wang);
        await expect.poll(() => page.locator('#unread-badge').innerText()).toBe('1');
        const notice = page.locator('#notice-list li.unread-item button').first();
        expect(await notice.innerText()).toContain(wangNo);
        await screenshot(page, 'loser-notified');
        await notice.click();
        expect(await waitForMessage(page, ['success'])).toContain(`已选中 ${wangNo}`);
        const selection = await page.evaluate(() =>
          (window as unknown as { __fakeOffice: FakeOffice }).__fakeOffice.workbook.selection(),
        );
        expect(selection?.sheet).toBe('我的报备');

        await page.locator('#mine-build').click();
        await waitForMessage(page, ['success']);
        const row = await rowOf(page, '我的报备', 'A', wangNo);
        // 异议截止 (H) is shown on the lost row.
        expect(String((await sheetValues(page, '我的报备', `H${row}`))[0]![0])).toBe(
          lost.body.objectionDeadline,
        );
        await setSheetValues(page, '我的报备', `L${row}:M${row}`, [
          ['提出异议', '我方 11 月 20 日已拜访客户，有拜访记录'],
        ]);
        await page.locator('#mine-apply').click();
        expect(await waitForMessage(page, ['success'])).toContain('已执行 1 项操作');
        const outcomeRow = await rowOf(page, '我的报备', 'A', wangNo);
        expect(String((await sheetValues(page, '我的报备', `R${outcomeRow}`))[0]![0])).toContain('已完成');
        await screenshot(page, 'loser-objected');
      } finally {
        await context.close();
      }
    }
    const objected = await service
      .api(reviewer)
      .get<{ objection?: { reason: string } }>(`/api/registrations/${wangNo}`);
    expect(objected.body.objection?.reason).toBe('我方 11 月 20 日已拜访客户，有拜访记录');

    // 4. The reviewer upholds the objection in the 延期与异议 sheet.
    {
      const { context, page } = await openPane();
      try {
        await connect(page, reviewer);
        await page.locator('#lifecycle-build').click();
        expect(await waitForMessage(page, ['success'])).toContain('待决定：延期申请 0 条，异议 1 条');
        const at = await rowOf(page, LIFECYCLE, 'A', wangNo);
        // The objection names the winner by number and registrant only (R3).
        const cells = (await sheetValues(page, LIFECYCLE, `A${at}:L${at}`))[0]!;
        // B 类型, J 对方报备编号, K 对方报备人.
        const [kind, againstNo, againstBy] = [cells[1], cells[9], cells[10]];
        expect([kind, againstNo, againstBy]).toEqual(['异议', liNo, '李娜']);
        await setSheetValues(page, LIFECYCLE, `N${at}:O${at}`, [['支持', '拜访记录属实']]);
        await screenshot(page, 'reviewer-objection-sheet');
        await page.locator('#lifecycle-apply').click();
        expect(await waitForMessage(page, ['success'])).toContain('已决定 1 条');
        const done = await rowOf(page, LIFECYCLE, 'A', wangNo);
        expect(String((await sheetValues(page, LIFECYCLE, `P${done}`))[0]![0])).toMatch(
          /^已支持异议（保护中，保护至 \d{4}-\d{2}-\d{2}）$/,
        );
        await screenshot(page, 'reviewer-upheld-objection');
      } finally {
        await context.close();
      }
    }
    const upheld = await service.api(reviewer).get<{ status: string }>(`/api/registrations/${wangNo}`);
    expect(upheld.body.status).toBe('protected');
    expect((await service.api(li).get<{ status: string }>(`/api/registrations/${liNo}`)).body.status).toBe(
      'terminated',
    );

    // 5. The holder asks for an extension from 我的报备.
    {
      const { context, page } = await openPane();
      try {
        await connect(page, wang);
        await expect.poll(() => page.locator('#unread-badge').isVisible()).toBe(true);
        await page.locator('#mine-build').click();
        await waitForMessage(page, ['success']);
        const row = await rowOf(page, '我的报备', 'A', wangNo);
        expect((await sheetValues(page, '我的报备', `C${row}`))[0]![0]).toBe('保护中');
        await screenshot(page, 'holder-protected');
        await setSheetValues(page, '我的报备', `L${row}:M${row}`, [
          ['申请延期', '客户预算下季度批复，需要延长保护'],
        ]);
        await page.locator('#mine-apply').click();
        expect(await waitForMessage(page, ['success'])).toContain('已执行 1 项操作');
        await screenshot(page, 'holder-asked-extension');
      } finally {
        await context.close();
      }
    }
    const before = await service
      .api(wang)
      .get<{ protectedUntil: string; extension?: unknown }>(`/api/registrations/${wangNo}`);
    expect(before.body.extension).toBeDefined();

    // 6. The reviewer approves the extension in the 延期与异议 sheet, then builds the 报表 for the month.
    {
      const { context, page } = await openPane();
      try {
        await connect(page, reviewer);
        await page.locator('#lifecycle-build').click();
        expect(await waitForMessage(page, ['success'])).toContain('待决定：延期申请 1 条，异议 0 条');
        const at = await rowOf(page, LIFECYCLE, 'A', wangNo);
        const cells = (await sheetValues(page, LIFECYCLE, `A${at}:I${at}`))[0]!;
        // B 类型, F 保护止, I 理由.
        const [kind, until, reason] = [cells[1], cells[5], cells[8]];
        expect([kind, until, reason]).toEqual([
          '延期申请',
          before.body.protectedUntil,
          '客户预算下季度批复，需要延长保护',
        ]);
        await setSheetValues(page, LIFECYCLE, `N${at}:O${at}`, [['批准', '同意延期']]);
        await screenshot(page, 'reviewer-extension-sheet');
        await page.locator('#lifecycle-apply').click();
        expect(await waitForMessage(page, ['success'])).toContain('已决定 1 条');
        const extended = await service
          .api(reviewer)
          .get<{ status: string; protectedUntil: string }>(`/api/registrations/${wangNo}`);
        expect(extended.body.status).toBe('protected');
        expect(extended.body.protectedUntil > before.body.protectedUntil).toBe(true);
        const done = await rowOf(page, LIFECYCLE, 'A', wangNo);
        expect((await sheetValues(page, LIFECYCLE, `P${done}`))[0]![0]).toBe(
          `已批准延期（保护中，保护至 ${extended.body.protectedUntil}）`,
        );
        await screenshot(page, 'reviewer-approved-extension');

        // 报表 for the month both registrations came in (the service's clock, Shanghai wall time).
        const month = new Date(service.now().getTime() + 8 * 3600_000).toISOString().slice(0, 7);
        await page.locator('#report-from').fill(month);
        await page.locator('#report-to').fill(month);
        await page.locator('#report-build').click();
        expect(await waitForMessage(page, ['success'])).toMatch(/^报表：2 行（每人每月）/);
        const perPerson = (await sheetValues(page, '报表', 'A1:D30')).filter((r) => r[2] === month);
        expect(perPerson.map((r) => [r[0], r[3]])).toEqual(
          expect.arrayContaining([
            ['李娜', 1],
            ['王磊', 1],
          ]),
        );
        await screenshot(page, 'reviewer-report');
      } finally {
        await context.close();
      }
    }
    // The holder sees the decision on the record.
    const decided = await service
      .api(wang)
      .get<{ extension?: { decision?: string } }>(`/api/registrations/${wangNo}`);
    expect(decided.body.extension?.decision).toBe('approve');

    // 7. The administrator: users, a token shown once, the policy, and the hand-over.
    {
      const { context, page } = await openPane();
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      try {
        await connect(page, service.adminToken);
        expect(await page.locator('#step-admin').isVisible()).toBe(true);
        await page.locator('#users-load').click();
        expect(await waitForMessage(page, ['success'])).toMatch(/共 \d+ 个用户/);
        const wangRow = page.locator('#users-table tr[data-user="王磊"]');
        expect(await wangRow.locator('td').nth(1).innerText()).toBe('销售');
        expect(await wangRow.locator('td').nth(2).innerText()).toBe('华东一部');
        expect(await wangRow.locator('td').nth(3).innerText()).toBe('启用');
        await screenshot(page, 'admin-users');

        // Add a user: the form is checked first, naming the field.
        await page.locator('#user-add').click();
        await page.locator('#new-user-error').waitFor({ state: 'visible' });
        expect(await page.locator('#new-user-error').innerText()).toBe('姓名（name）：不能为空');
        await page.locator('#new-user-name input').fill('孙敏');
        await page.locator('#new-user-role').selectOption('reviewer');
        await page.locator('#new-user-team input').fill('华东一部');
        await page.locator('#user-add').click();
        expect(await waitForMessage(page, ['success'])).toContain('已添加 孙敏');
        const token = await page.locator('#token-value').innerText();
        expect(token).toMatch(/^bb_/);
        // The token works, and the copy button puts it on the clipboard.
        expect((await service.api(token).get<{ name: string; role: string }>('/api/me')).body).toMatchObject({
          name: '孙敏',
          role: 'reviewer',
        });
        await page.locator('#token-copy').click();
        // Copying shows no progress bar, so until the clipboard answers the message still showing
        // is the one from adding the user: wait for the copy's own.
        await page.locator('#message', { hasText: '已复制' }).waitFor();
        expect(await waitForMessage(page, ['success'])).toContain('已复制');
        expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
        await screenshot(page, 'admin-token-shown-once');
        await page.locator('#token-close').click();
        expect(await page.locator('#token-box').isHidden()).toBe(true);
        expect(await page.content()).not.toContain(token);
        expect(await page.locator('#users-table tr[data-user="孙敏"] td').nth(1).innerText()).toBe('审核');

        // Rotate her token: the old one stops working, the new one is shown once.
        await page.locator('#users-table tr[data-user="孙敏"] button[data-action="rotate"]').click();
        expect(await waitForMessage(page, ['success'])).toContain('已为 孙敏 更换令牌');
        const rotated = await page.locator('#token-value').innerText();
        expect(rotated).not.toBe(token);
        expect((await service.api(token).get('/api/me')).status).toBe(401);
        expect((await service.api(rotated).get('/api/me')).status).toBe(200);
        await page.locator('#token-close').click();
        expect(await page.content()).not.toContain(rotated);

        // Disable and enable her again.
        await page.locator('#users-table tr[data-user="孙敏"] button[data-action="disable"]').click();
        expect(await waitForMessage(page, ['success'])).toContain('已停用 孙敏');
        expect(await page.locator('#users-table tr[data-user="孙敏"] td').nth(3).innerText()).toBe('已停用');
        expect((await service.api(rotated).get('/api/me')).status).toBe(401);
        await page.locator('#users-table tr[data-user="孙敏"] button[data-action="enable"]').click();
        expect(await waitForMessage(page, ['success'])).toContain('已启用 孙敏');
        expect((await service.api(rotated).get('/api/me')).status).toBe(200);
        // The administrator's own row offers no way to lock themselves out.
        const adminName = (await service.api(service.adminToken).get<{ name: string }>('/api/me')).body.name;
        expect(
          await page
            .locator(`#users-table tr[data-user="${adminName}"] button[data-action="disable"]`)
            .count(),
        ).toBe(0);

        // Policy: the one in force, an invalid override refused next to its field, then a valid one.
        await page.locator('#policy-load').click();
        await page.locator('#policy-wrap').waitFor({ state: 'visible' });
        expect(await page.locator('#policy-preset').inputValue()).toBe('standard');
        const reviewRow = page.locator('.policy-row[data-key="reviewWorkdays"]');
        expect(await reviewRow.locator('label').innerText()).toContain('审核时限');
        expect(await reviewRow.locator('label').innerText()).toContain('Review within');
        expect(await reviewRow.locator('input').inputValue()).toBe('7');
        await screenshot(page, 'admin-policy');
        await reviewRow.locator('input').fill('0');
        await page.locator('#policy-save').click();
        expect(await waitForMessage(page, ['error'])).toContain('1 项设置不符合要求');
        const fieldError = await reviewRow.locator('.field-error').innerText();
        expect(fieldError).toContain('「审核时限（工作日，R12）」（reviewWorkdays）');
        expect(fieldError).toContain('(reviewWorkdays)');
        await screenshot(page, 'admin-policy-invalid');
        // Still standard in the service.
        expect(
          (await service.api(wang).get<{ reviewWorkdays: number }>('/api/policy')).body.reviewWorkdays,
        ).toBe(7);
        await reviewRow.locator('input').fill('5');
        await page.locator('#policy-save').click();
        expect(await waitForMessage(page, ['success'])).toContain('政策已保存：预设 standard，1 项覆盖');
        expect(await reviewRow.locator('.field-error').isHidden()).toBe(true);
        expect(await reviewRow.locator('.overridden').innerText()).toBe('已覆盖');
        const policy = await service.api(wang).get<{ preset: string; reviewWorkdays: number }>('/api/policy');
        expect(policy.body).toMatchObject({ preset: 'standard', reviewWorkdays: 5 });

        // Hand over the holder's customers (R38): pick the colleague, confirm, see how many moved.
        await page.locator('#users-table tr[data-user="王磊"] button[data-action="hand-over"]').click();
        await page.locator('#hand-over').waitFor({ state: 'visible' });
        expect(await page.locator('#hand-over-label').innerText()).toContain('停用 王磊');
        const candidates = await page.locator('#hand-over-to option').allInnerTexts();
        expect(candidates.some((c) => c.startsWith('王磊'))).toBe(false);
        await page.locator('#hand-over-to').selectOption('赵强');
        await screenshot(page, 'admin-hand-over-confirm');
        await page.locator('#hand-over-confirm').click();
        expect(await waitForMessage(page, ['success'])).toContain('已停用 王磊，1 条报备已移交给 赵强');
        expect(await page.locator('#users-table tr[data-user="王磊"] td').nth(3).innerText()).toBe('已停用');
        await screenshot(page, 'admin-handed-over');

        // English on request: the step and the policy labels follow.
        await page.locator('#language-toggle').click();
        expect(await page.locator('#step-admin h2').innerText()).toContain('Administration');
        expect(await page.locator('#users-table tr[data-user="王磊"] td').nth(3).innerText()).toBe(
          'Disabled',
        );
      } finally {
        await context.close();
      }
    }
    const moved = await service
      .api(reviewer)
      .get<{ registration: { registrant: string }; status: string }>(`/api/registrations/${wangNo}`);
    expect(moved.body.registration.registrant).toBe('赵强');
    expect(moved.body.status).toBe('protected');
    expect((await service.api(wang).get('/api/me')).status).toBe(401);

    expect(pane.foreignRequests).toEqual([]);
    expect(pane.pageProblems).toEqual([]);
  }, 300_000);
});

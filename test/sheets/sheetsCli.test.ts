/**
 * `baobei sheets …` as a user runs it: the real CLI process (bin/baobei.js) against the real service
 * in this process, which holds the fake Google client (StartOptions.google cannot cross a process
 * boundary). The CLI finds the service through the data dir's lock and authenticates with the
 * data dir's admin.token, as calendarCommand.ts does: no URL or token is passed to it.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGoogle } from '../fakes/fakeGoogle.js';
import type { Api } from '../support/testService.js';
import { SERVICE_ACCOUNT, linkSheet, startSheetsService, type SheetsService } from './sheetsService.js';
import { runCli } from '../support/childService.js';

const SA = SERVICE_ACCOUNT;
const TAB = '报备';

describe('baobei sheets (CLI, issue 11)', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService | undefined;
  let dataDir: string;
  let key: string;
  let admin: Api;
  let spreadsheet: string;

  beforeAll(async () => {
    sheets = await startSheetsService({ dirPrefix: 'baobei-sheets-cli-' });
    ({ fake, admin, dataDir, key } = sheets);
    spreadsheet = fake.createSpreadsheet({
      sheets: [
        {
          title: TAB,
          values: [
            ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源'],
            ['上海华信科技有限公司', '张三', '13812345678', '企业', '上海市浦东新区张江路 100 号', '展会'],
          ],
        },
      ],
      sharedWith: { [SA]: 'writer' },
    });
  }, 60_000);

  afterAll(async () => {
    await sheets?.close();
  });

  const cli = (...args: string[]) => runCli(['sheets', ...args], { dataDir, key, timeoutMs: 60_000 });

  it('links, lists, syncs (dry run, then for real), pauses, resumes and unlinks by tab name', async () => {
    const linked = await cli(
      'link',
      `https://docs.google.com/spreadsheets/d/${spreadsheet}/edit#gid=0`,
      '--sheet',
      TAB,
      '--team',
      '华东一部',
      '--owner',
      '王磊',
    );
    expect(linked.code, linked.stderr).toBe(0);
    expect(linked.stdout).toContain(SA);
    expect(linked.stdout).toMatch(/客户名称\s+\S+\s+\d+%/);
    // What the link set in the sheet: the protected result columns and the 客户类型 list.
    expect(linked.stdout).toContain(
      `result columns protected (warning only): '${TAB}'!G1:K（报备编号、状态、保护截止、冲突说明、提示）— 已添加 added`,
    );
    expect(linked.stdout).toMatch(/'报备'!D2:D\s+客户类型\s+下拉 list: 企业、个人、其他/);
    const linkId = /已链接 \/ linked: (sheet-[0-9a-f]{8})/.exec(linked.stdout)?.[1];
    expect(linkId).toBeDefined();

    const listed = await cli('list');
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^编号 id\s+表格 spreadsheet\s+工作表 tab\s+团队 team\s+负责人 owner\s+暂停 paused/,
    );
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain(linkId!);
    expect(lines[2]).toContain(spreadsheet);
    expect(lines[2]).toMatch(/报备\s+华东一部\s+王磊\s+否 no\s+—\s+—$/);
    // Chinese cells are two terminal columns wide: the tab column starts at the same place on every line.
    const col = (line: string, text: string) => {
      const at = line.indexOf(text);
      return [...line.slice(0, at)].reduce((w, ch) => w + (/[\u2e80-\uffff]/.test(ch) ? 2 : 1), 0);
    };
    expect(col(lines[2]!, '报备')).toBe(col(lines[0]!, '工作表'));

    const dry = await cli('sync', TAB, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('dry run');
    // The service counts as registered only rows given a number, which a dry run never does.
    expect(dry.stdout).toMatch(/registered 0.*invalid 0，未登记 not registered 0；2 次 API 调用/);
    expect((await admin.get<{ items: unknown[] }>('/api/registrations')).body.items).toHaveLength(0);
    expect(fake.values(spreadsheet, TAB)[1]?.[6] ?? '').toBe('');

    const real = await cli('sync', linkId!);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain('registered 1');
    expect(String(fake.values(spreadsheet, TAB)[1]?.[6])).toMatch(/^BB-2026-\d{6}$/);
    const afterSync = await cli('list');
    expect(afterSync.stdout.split('\n')[2]).toMatch(/否 no\s+\d{4}-\d{2}-\d{2}T/);

    const paused = await cli('pause', TAB);
    expect(paused.code, paused.stderr).toBe(0);
    expect((await cli('list')).stdout.split('\n')[2]).toContain('是 yes');
    expect((await cli('resume', TAB)).code).toBe(0);
    expect((await cli('list')).stdout.split('\n')[2]).toContain('否 no');

    const unlinked = await cli('unlink', TAB);
    expect(unlinked.code, unlinked.stderr).toBe(0);
    expect((await cli('list')).stdout).toContain('no sheet links');
  }, 180_000);

  it('a refusal is the service’s bilingual error and exit code 2; the last error shows in the list', async () => {
    const link = async () =>
      cli('link', spreadsheet, '--sheet', TAB, '--team', '华东一部', '--owner', '王磊');
    const first = await link();
    expect(first.code, first.stderr).toBe(0);
    const again = await link();
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('已链接');
    expect(again.stderr).toContain('is already linked');

    const unknown = await cli('sync', 'no-such-tab');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No sheet link with id or tab name "no-such-tab"');

    fake.unshare(spreadsheet, SA);
    const denied = await cli('sync', TAB);
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain(SA);
    const listed = await cli('list');
    expect(listed.stdout.split('\n')[2]).toContain(SA);
    fake.share(spreadsheet, SA);

    const stranger = await runCli(['sheets', 'list'], {
      dataDir: await mkdtemp(path.join(os.tmpdir(), 'baobei-sheets-none-')),
      key,
    });
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toContain('Sheet links are managed through the running service');
  }, 180_000);

  it('sync prints how many rows are not registered and why; a dry run lists the 提示 texts it would write', async () => {
    const other = fake.createSpreadsheet({
      sheets: [
        {
          title: '客户',
          values: [
            ['客户名称', '联系人', '联系电话', '客户类型', '地址', '客户来源'],
            ['上海某公司', '张三', '13800000000', '企业', '上海市浦东新区XX路 1 号', '展会'],
            [
              '杭州云帆网络科技有限公司',
              '李四',
              '13987654321',
              '企业',
              '杭州市西湖区文三路 200 号',
              '转介绍',
            ],
            ['合计', '1 家'],
          ],
        },
      ],
      sharedWith: { [SA]: 'writer' },
    });
    const linkId = await linkSheet(admin, other, '客户');
    const dry = await cli('sync', linkId, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('未登记 not registered 2');
    expect(dry.stdout).toContain('2 行是填写示例、合计、说明或重复的表头，未登记（见该行“提示”）');
    expect(dry.stdout).toMatch(/第 2 行 \/ row 2 {2}row\.example: 第 2 行是填写示例（见 A 列“客户名称”）/);
    expect(dry.stdout).toMatch(
      /第 4 行 \/ row 4 {2}row\.total: 第 4 行是合计行，未登记 \/ Row 4 is a total row; not registered/,
    );
    expect(dry.stdout).toContain('提示（试运行，将写入 / dry run, would write）');
    expect(dry.stdout).toContain('第 2 行 / row 2: 填写示例，未登记 / Example row, not registered');
    expect(dry.stdout).toContain('第 4 行 / row 4: 合计行，未登记 / Total row, not registered');
    expect(fake.values(other, '客户')[1]?.[10] ?? '').toBe('');

    const real = await cli('sync', linkId);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain('registered 1');
    expect(real.stdout).toContain('提示（已写入 / written）');
    expect(fake.values(other, '客户')[1]?.[10]).toBe('填写示例，未登记 / Example row, not registered');

    // Read once more (the write-back moved the version), then stopped at the version: the rows
    // the last read found are printed as that read's, not as none.
    expect((await cli('sync', linkId)).code).toBe(0);
    const unchanged = await cli('sync', linkId);
    expect(unchanged.code, unchanged.stderr).toBe(0);
    expect(unchanged.stdout).toContain('unchanged since the last sync, nothing read');
    expect(unchanged.stdout).toContain(
      '上次读取（2026-11-23T02:00:00.000Z）时的结果，表格此后未变 / as the last read (2026-11-23T02:00:00.000Z) found them',
    );
    expect(unchanged.stdout).toContain('2 行是填写示例、合计、说明或重复的表头，未登记（见该行“提示”）');
    expect(unchanged.stdout).toMatch(/第 4 行 \/ row 4 {2}row\.total/);
  }, 180_000);
});

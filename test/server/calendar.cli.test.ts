/**
 * `baobei calendar set|show` as an administrator runs it: a CSV typed from the State Council's
 * notice or a JSON body, on the store when no service runs and through the service when one does;
 * a bad line ends with exit 2 and one line naming the date. Plus: both stores keep what was entered.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { CalendarService } from '../../server/services/calendarService.js';
import { LifecycleService } from '../../server/services/lifecycleService.js';
import { RegistrationService } from '../../server/services/registrationService.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import type { Store } from '../../server/store/store.js';
import { addDays, dayOf } from '../../core/day.js';
import { packageSchedule } from '../../core/calendar.js';
import type { RecordView } from '../../server/services/recordView.js';
import { SYNTHETIC_2027 } from '../fixtures/calendar2027.js';
import { runCli, spawnService } from '../support/childService.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService } from '../support/testService.js';
import { CLI_TEST_TIMEOUT } from '../support/builtCli.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'baobei-calendar-'));
}

/** The synthetic 2027 as an administrator types it: one line per day, 休 or 班. */
const CSV_2027 = [
  '日期,类型,名称',
  '2027-01-01,休,元旦',
  '2027/1/2,休,元旦',
  '2027年1月3日,休,元旦',
  ...['08', '09', '10', '11', '12', '13', '14'].map((d) => `2027-02-${d},休,春节`),
  '2027-02-06,班,春节调休',
  '2027-02-20,班,春节调休',
].join('\n');

describe('baobei calendar', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('[R12] sets a year from CSV on the store, shows it, and refuses a bad line naming the date', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const csv = path.join(dataDir, '2027.csv');
    await writeFile(csv, CSV_2027);
    const set = await runCli(['calendar', 'set', '2027', csv], { dataDir, key });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('休 2027-02-08 – 2027-02-14 春节');
    expect(set.stdout).toContain('班 2027-02-20');
    const show = await runCli(['calendar', 'show', '2027'], { dataDir, key });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/entered by an administrator/);
    expect(show.stdout).toContain('休 2027-01-01 – 2027-01-03 元旦');

    const bad = path.join(dataDir, 'bad.csv');
    await writeFile(bad, '2027-02-08,休,春节\n2027-02-17,班,调休\n');
    const refused = await runCli(['calendar', 'set', '2027', bad], { dataDir, key });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('2027-02-17');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    const badKind = path.join(dataDir, 'kind.csv');
    await writeFile(badKind, '2027-02-08,休,春节\n2027-02-09,周末,春节\n');
    const kind = await runCli(['calendar', 'set', '2027', badKind], { dataDir, key });
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('kind.csv:2');
    expect((await runCli(['calendar', 'set', '20x7', csv], { dataDir, key })).code).toBe(2);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a CSV saved by Excel on Chinese Windows (GBK) is read; a workbook or broken quotes are told plainly', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const gbk = path.join(dataDir, '2027-gbk.csv');
    await writeFile(gbk, iconv.encode(CSV_2027, 'gbk'));
    const set = await runCli(['calendar', 'set', '2027', gbk], { dataDir, key });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('休 2027-02-08 – 2027-02-14 春节');

    // The schedule typed into Excel and saved as a workbook (a zip) — it ended as an internal error
    // quoting the zip's bytes.
    const workbook = path.join(dataDir, '2027.xlsx');
    await writeFile(workbook, Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(200)]));
    const asWorkbook = await runCli(['calendar', 'set', '2027', workbook], { dataDir, key });
    expect(asWorkbook.code).toBe(2);
    expect(asWorkbook.stderr.trim()).toBe(
      `${workbook} 是 Excel 工作簿：请在 Excel 中另存为 CSV（逗号分隔），每天一行：日期,休|班,名称 / ` +
        `${workbook} is an Excel workbook: save it as CSV (comma-separated) in Excel, one line per day: date,休|班,name [calendar.input]`,
    );
    const quotes = path.join(dataDir, 'quotes.csv');
    await writeFile(quotes, '2027-02-08,休,春节\n2027-02-09,休,"春节\n');
    const broken = await runCli(['calendar', 'set', '2027', quotes], { dataDir, key });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/quotes\.csv:\d+ 不是有效的 CSV.* \/ .*is not valid CSV/);
    expect(broken.stderr).not.toContain('内部错误');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a year that is not 2000–2100 is one bilingual line with its code, and no store is opened', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const key = randomBytes(32).toString('hex');
    const res = await runCli(['calendar', 'show', '27'], { dataDir, key });
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe(
      '年份须为 2000–2100 的四位数字：27 / the year must be 2000–2100: 27 [calendar.year_invalid]',
    );
    expect(existsSync(dataDir)).toBe(false);
  });

  it('[R12] sets a year from JSON through the running service', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const service = await spawnService({ dataDir, key });
    try {
      const json = path.join(dataDir, '2027.json');
      await writeFile(json, JSON.stringify(SYNTHETIC_2027));
      const set = await runCli(['calendar', 'set', '2027', json, '--url', service.url], { dataDir, key });
      expect(set.code, set.stderr).toBe(0);
      const token = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
      const res = await fetch(`${service.url}/api/calendar/2027`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await res.json()).toMatchObject({ source: 'administrator', enteredBy: 'admin' });
    } finally {
      await service.kill('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('finds the running service through the data-dir lock, and names the address when none answers', async () => {
    const dataDir = await tempDir();
    const key = randomBytes(32).toString('hex');
    const service = await spawnService({ dataDir, key });
    try {
      // No --url: the address comes from the lock the service wrote, whatever port it runs on.
      const shown = await runCli(['calendar', 'show', '2026'], { dataDir, key });
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain('2026');
    } finally {
      await service.kill('SIGTERM');
    }
    try {
      const refused = await runCli(['calendar', 'show', '2026', '--url', 'http://127.0.0.1:9'], {
        dataDir,
        key,
      });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('http://127.0.0.1:9');
      expect(refused.stderr).not.toMatch(/fetch failed|internal error/i);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('baobei calendar set on the store and lapses (R31, R44)', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('[R31][R44] a day off entered after a deadline day does not move it: the command voids what lapsed under the calendar in force', async () => {
    // The command runs on the real clock: the record is approved the day before yesterday (Shanghai)
    // with its first follow-up due yesterday, a working day under the schedule in force; the
    // command then makes yesterday a day off, which would move the deadline to today or later.
    const today = dayOf(new Date());
    const yesterday = addDays(today, -1);
    const approvedOn = addDays(today, -2);
    const year = Number(yesterday.slice(0, 4));
    const near = (from: string, to: string) =>
      to >= addDays(yesterday, -10) && from <= addDays(yesterday, 10);
    const shipped = packageSchedule(year) ?? { holidays: [], workdays: [] };
    const weekend = [0, 6].includes(new Date(`${yesterday}T00:00:00Z`).getUTCDay());
    const inForce = {
      holidays: shipped.holidays.filter((h) => !near(h.from, h.to)),
      workdays: [...shipped.workdays.filter((d) => !near(d, d)), ...(weekend ? [yesterday] : [])].sort(),
    };
    const entered = {
      holidays: [...inForce.holidays, { from: yesterday, to: yesterday, name: '临时放假' }],
      workdays: inForce.workdays.filter((d) => d !== yesterday),
    };
    const key = randomBytes(32).toString('hex');
    const svc = await startTestService({ now: `${approvedOn}T01:00:00.000Z`, key, keepData: true });
    const dataDir = svc.dataDir;
    let no: string;
    try {
      const put = (path: string, body: unknown) => svc.api(svc.adminToken).put(path, body);
      expect(
        (await put('/api/policy', { preset: 'follow-up', followUp: { firstWithinDays: 1, everyDays: 7 } }))
          .status,
      ).toBe(200);
      expect((await put(`/api/calendar/${year}`, inForce)).status).toBe(200);
      const wang = await svc.user('王磊', 'sales', '华东一部');
      const reviewer = await svc.user('张敏', 'reviewer', '华东一部');
      const submitted = await svc
        .api(wang)
        .post<{ results: { registrationNo?: string }[] }>('/api/registrations', {
          rows: [enterpriseRow(71)],
        });
      no = submitted.body.results[0]!.registrationNo!;
      const approved = await svc
        .api(reviewer)
        .post<RecordView>(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' });
      expect(approved.status).toBe(200);
      expect(approved.body.service).toMatchObject({ nextDue: yesterday, lapsesOn: today });
    } finally {
      await svc.close();
    }
    try {
      const json = path.join(dataDir, 'entered.json');
      await writeFile(json, JSON.stringify(entered));
      const set = await runCli(['calendar', 'set', String(year), json], { dataDir, key });
      expect(set.code, set.stderr).toBe(0);
      const store = await LowdbStore.open({
        dataDir,
        keyring: keyringFromMasterKey(Buffer.from(key, 'hex')),
      });
      try {
        const stored = await store.read((tx) => tx.getRecord(no));
        expect(stored).toMatchObject({ status: 'void', reasonCode: 'followUp.lapsed' });
        expect(stored?.history.at(-1)).toMatchObject({ details: { rule: 'R31', deadline: yesterday } });
        const audit = await store.listAudit({ limit: 50, offset: 0 });
        expect(audit.items.find((e) => e.action === 'registration.lapse')).toMatchObject({
          records: [no],
          details: { voided: 1, before: 'calendar.update' },
        });
      } finally {
        await store.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a CalendarService made without the lifecycle refuses to enter a schedule (it would skip the lapses)', async () => {
    const dataDir = await tempDir();
    const store = await LowdbStore.open({ dataDir, keyring: keyringFromMasterKey(randomBytes(32)) });
    try {
      const calendars = await CalendarService.open(store, () => new Date('2026-11-23T02:00:00Z'));
      await expect(
        calendars.put({ id: 'a', name: 'admin', role: 'admin' }, 2027, SYNTHETIC_2027),
      ).rejects.toThrow(/RulesChanger/);
      expect(calendars.view(2027).source).toBe('weekends-only');
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('entered schedules in both stores', () => {
  const keyring = keyringFromMasterKey(randomBytes(32));
  const actor = { id: 'a', name: 'admin', role: 'admin' as const };

  async function roundTrip(open: () => Promise<Store>): Promise<void> {
    const first = await open();
    const clock = () => new Date('2026-11-23T02:00:00Z');
    const deps = { store: first, keyring, clock };
    const lifecycle = new LifecycleService(deps, new RegistrationService(deps));
    await (await CalendarService.open(first, clock, lifecycle)).put(actor, 2027, SYNTHETIC_2027);
    await first.close();
    const again = await open();
    try {
      const calendars = await CalendarService.open(again, () => new Date('2026-11-23T02:00:00Z'));
      expect(calendars.view(2027)).toMatchObject({ source: 'administrator', ...SYNTHETIC_2027 });
      expect(calendars.calendar().isWorkday('2027-02-20')).toBe(true);
      expect(calendars.warnings()).toEqual([]);
    } finally {
      await again.close();
    }
  }

  it('[R12] lowdb keeps an entered year across a restart', async () => {
    const dataDir = await tempDir();
    await roundTrip(() => LowdbStore.open({ dataDir, keyring }));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('[R12] PostgreSQL keeps an entered year across a restart', async () => {
    const schema = uniqueSchema('baobei_cal');
    try {
      await roundTrip(() => PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema }));
    } finally {
      await dropSchema(DATABASE_URL, schema);
    }
  });
});

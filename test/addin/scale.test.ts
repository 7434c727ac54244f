/**
 * Excel API discipline at scale: every operation on a 10,000-row sheet makes as many
 * `context.sync()` round trips as on a 100-row sheet (at most 4), no request or response passes
 * Excel on the web's 5 MB, and no getRanges address reaches 8,192 characters. Counts and sizes are
 * asserted, never time. Real service, fake Excel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVIEW_SHEET_NAME } from '../../core/reviewSheetPlan.js';
import { createApiClient } from '../../addin/apiClient.js';
import { createExcelGateway, type ExcelHost } from '../../addin/excelGateway.js';
import { createWorkflows, type Workflows } from '../../addin/workflows.js';
import { createFakeOffice, PAYLOAD_LIMIT_BYTES, type FakeCell, type FakeOffice } from '../fakes/fakeExcel.js';
import { companyNameFor, creditCodeFor, phoneFor } from '../support/customers.js';
import { startTestService, type TestService } from '../support/testService.js';

const SHEET = '客户报备';
const SHEET_OPERATIONS = ['detect', 'apply', 'check', 'submit', 'refresh', 'submitChanges'] as const;
/** The review sheet does not depend on the API version (no notes): measured once, on 1.18. */
const REVIEW_OPERATIONS = ['buildReviewSheet', 'applyReviewDecisions'] as const;
type Operation = (typeof SHEET_OPERATIONS)[number] | (typeof REVIEW_OPERATIONS)[number];

interface Measure {
  syncs: number;
  maxRequestBytes: number;
  maxResponseBytes: number;
  longestRangesAddress: number;
  suspendedWrites: number;
}

/** A legacy sheet: a title row, the header, then `rows` registrations; every 10th phone is wrong. */
function legacySheet(rows: number): FakeCell[][] {
  const header = [
    '客户名称',
    '客户类型',
    '统一社会信用代码',
    '联系电话',
    '所在地区',
    '客户来源',
    '报备人',
    '部门',
    '预计签约金额',
    '预计签约时间',
    '备注',
  ];
  const grid: FakeCell[][] = [['2026年客户报备登记表'], header];
  for (let i = 0; i < rows; i++) {
    grid.push([
      companyNameFor(i),
      '企业',
      creditCodeFor(i),
      i % 10 === 9 ? '12345' : phoneFor(i),
      '上海',
      '展会',
      '王磊',
      '华东一部',
      500_000 + i,
      46_400 + (i % 300),
      i % 7 === 0 ? '客户希望下月安排现场演示，需提前准备样品与报价单' : null,
    ]);
  }
  return grid;
}

function measure(fake: FakeOffice): Measure {
  const log = fake.payloads();
  return {
    syncs: fake.syncCount(),
    maxRequestBytes: Math.max(0, ...log.map((p) => p.requestBytes)),
    maxResponseBytes: Math.max(0, ...log.map((p) => p.responseBytes)),
    longestRangesAddress: Math.max(0, ...log.map((p) => p.longestRangesAddress)),
    suspendedWrites: log.filter((p) => p.calculationSuspended).length,
  };
}

/** Runs every operation once on a sheet of `rows` rows and measures each. */
async function measureAll(rows: number, apiVersion: string): Promise<Partial<Record<Operation, Measure>>> {
  const svc: TestService = await startTestService({ now: '2026-11-23T02:00:00.000Z' });
  try {
    const salesToken = await svc.user('王磊', 'sales', '华东一部');
    const reviewerToken = await svc.user('张敏', 'reviewer', '华东一部');
    const fake = createFakeOffice({ apiVersion, sheets: [{ name: SHEET, values: legacySheet(rows) }] });
    const excel = createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost);
    const sales: Workflows = createWorkflows({
      excel,
      api: createApiClient({ baseUrl: svc.url, token: salesToken }),
      now: () => svc.now(),
    });
    const reviewer: Workflows = createWorkflows({
      excel,
      api: createApiClient({ baseUrl: svc.url, token: reviewerToken }),
      now: () => svc.now(),
    });
    const out: Partial<Record<Operation, Measure>> = {};
    const run = async (operation: Operation, action: () => Promise<unknown>) => {
      fake.resetCounters();
      await action();
      out[operation] = measure(fake);
    };

    let setup = await sales.detect();
    await run('detect', async () => {
      setup = await sales.detect();
      expect(setup.dataRows).toBe(rows);
    });
    await run('apply', async () => {
      const prepared = await sales.apply(setup);
      expect(prepared.invalidRows).toBe(rows / 10);
    });
    await run('check', async () => {
      const summary = await sales.check(setup);
      expect(summary.rows).toBe(rows);
      expect(summary.invalidBeforeSend).toBe(rows / 10);
    });
    await run('submit', async () => {
      const summary = await sales.submit(setup);
      expect(summary.byStatus.pending).toBe(rows - rows / 10);
    });
    fake.workbook.activate(SHEET);
    await run('refresh', async () => {
      const summary = await sales.refresh(setup);
      expect(summary.rows).toBe(rows - rows / 10);
      expect(summary.skipped).toBe(0);
    });
    // Issue 15: every 100th row's 备注 edited and sent with 提交更改, one PATCH each.
    for (let i = 0; i < rows; i += 100) fake.workbook.setValues(SHEET, `K${i + 3}`, [['改为按季度付款']]);
    fake.workbook.activate(SHEET);
    await run('submitChanges', async () => {
      const summary = await sales.submitChanges(setup);
      expect(summary).toMatchObject({ changed: rows / 100, refused: 0, unseen: 0 });
    });
    // The numbers written by submit are the service's.
    const written = fake.workbook
      .values(SHEET, `L3:L${rows + 2}`)
      .flat()
      .filter((v) => v !== '');
    expect(written).toHaveLength(rows - rows / 10);
    if (apiVersion !== '1.18') return out;
    await run('buildReviewSheet', async () => {
      const built = await reviewer.buildReviewSheet();
      expect(built.rows).toBe(rows - rows / 10);
    });
    fake.workbook.setValues(REVIEW_SHEET_NAME, 'O2', [['通过', '资料齐全']]);
    fake.workbook.setValues(REVIEW_SHEET_NAME, 'O3', [['驳回', '信息不实']]);
    await run('applyReviewDecisions', async () => {
      const applied = await reviewer.applyReviewDecisions();
      expect(applied).toEqual({ decided: 2, errors: [] });
    });
    return out;
  } finally {
    await svc.close();
  }
}

describe.each(['1.18', '1.9'])('ExcelApi %s', (apiVersion) => {
  let small: Partial<Record<Operation, Measure>>;
  let large: Partial<Record<Operation, Measure>>;
  const operations: Operation[] =
    apiVersion === '1.18' ? [...SHEET_OPERATIONS, ...REVIEW_OPERATIONS] : [...SHEET_OPERATIONS];
  const of = (measures: Partial<Record<Operation, Measure>>, operation: Operation): Measure => {
    const m = measures[operation];
    if (m === undefined) throw new Error(`${operation} was not measured`);
    return m;
  };

  beforeAll(async () => {
    small = await measureAll(100, apiVersion);
    large = await measureAll(10_000, apiVersion);
  }, 600_000);

  // At most 5: Prepare's notes and table each get a sync of their own, so that a refused note or
  // table (Excel stops a batch at the first failure and keeps the rest) costs only itself. Submit,
  // Refresh and 提交更改 read and write 报备快照 (what the sheet last saw, issue 15): one sync each.
  // On a sheet whose header is in a table, one more learns the table's columns: result columns
  // outside it would not move with its rows when it is sorted.
  it.each(operations)('%s: the same number of syncs for 100 and 10,000 rows, at most 8', (operation) => {
    expect(of(large, operation).syncs).toBe(of(small, operation).syncs);
    expect(of(large, operation).syncs).toBeLessThanOrEqual(
      ['submit', 'refresh', 'submitChanges'].includes(operation) ? 8 : 5,
    );
  });

  it.each(operations)(
    '%s: no request or response over 5 MB, no getRanges address of 8,192 characters',
    (operation) => {
      expect(of(large, operation).maxRequestBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
      expect(of(large, operation).maxResponseBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
      expect(of(large, operation).longestRangesAddress).toBeLessThan(8_192);
    },
  );

  it('colours 10,000 rows with a handful of getRanges calls, cut under the address and area limits, never suspending calculation', () => {
    // Every 10th row is invalid: 2,000 row runs, which no single address could hold.
    expect(of(large, 'check').longestRangesAddress).toBeGreaterThan(2_000);
    // suspendApiCalculationUntilNextSync leaves recalculation to the caller (Excel.Application docs).
    expect(of(large, 'check').suspendedWrites).toBe(0);
    expect(of(large, 'submit').suspendedWrites).toBe(0);
  });

  it('reports the measured syncs', () => {
    const table = Object.fromEntries(
      operations.map((op) => [op, `${of(small, op).syncs} / ${of(large, op).syncs}`]),
    );
    console.log(`ExcelApi ${apiVersion} syncs (100 rows / 10,000 rows):`, table);
    console.log(
      `ExcelApi ${apiVersion} largest request / response (10,000 rows, bytes):`,
      Object.fromEntries(
        operations.map((op) => [op, `${of(large, op).maxRequestBytes} / ${of(large, op).maxResponseBytes}`]),
      ),
    );
  });
});

describe('a sheet too big for one response', () => {
  let fake: FakeOffice;
  afterAll(() => fake.resetCounters());

  it('is read in pieces under 5 MB each, and nothing is lost', async () => {
    const grid = legacySheet(6_000);
    // Long notes (~2 KB of text per row) make the sheet ~14 MB of values.
    for (const row of grid.slice(2)) row[10] = '跟进记录：'.repeat(140);
    fake = createFakeOffice({ sheets: [{ name: SHEET, values: grid }] });
    const excel = createExcelGateway({ Excel: fake.Excel, Office: fake.Office } as unknown as ExcelHost);
    const snapshot = await excel.readSheet();
    expect(snapshot.grid).toHaveLength(6_002);
    expect(snapshot.grid[6_001]?.[0]).toBe(companyNameFor(5_999));
    const log = fake.payloads();
    expect(log[0]?.failed).toBe('ResponsePayloadSizeLimitExceeded');
    expect(
      log.filter((p) => p.failed === undefined).every((p) => p.responseBytes < PAYLOAD_LIMIT_BYTES),
    ).toBe(true);
    expect(log.length).toBeLessThan(12);
    console.log(
      'a 14 MB sheet read in',
      log.length,
      'syncs:',
      log.map((p) => p.failed ?? p.responseBytes),
    );
  });
});

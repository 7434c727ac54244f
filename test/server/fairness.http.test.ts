/**
 * No request starves the others (issue 16): while a 5,000-row batch is being checked, or a
 * 5,000-row sheet imported (issue 12), the event loop keeps serving `/api/health`. Measured against
 * a real service in its own process, as ratios (health latency during the work against the work's
 * own duration and against idle) so that the machine's speed cancels out; the figures are printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnService, type ChildService } from '../support/childService.js';
import { csvOf } from '../fixtures/legacySheets.js';
import { ENTERPRISE_SHEET_HEADER, enterpriseRow, enterpriseSheetRow } from '../support/customers.js';

const BATCH_ROWS = 5_000;
const IMPORT_ROWS = 5_000;
const IDLE_SAMPLES = 40;

const running: ChildService[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of running.splice(0)) await s.kill('SIGTERM');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)]!;
}

async function healthMs(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${url}/api/health`);
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return performance.now() - t;
}

/**
 * Health's latency at rest, then while `work` runs: polled one call after another until it settles.
 * `ms` is the work's own duration, from its start to its answer.
 */
async function healthAround<T>(
  url: string,
  work: () => Promise<T>,
): Promise<{ idle: number[]; busy: number[]; result: T; ms: number }> {
  const idle: number[] = [];
  for (let i = 0; i < IDLE_SAMPLES; i++) idle.push(await healthMs(url));
  const busy: number[] = [];
  let done = false;
  let ms = 0;
  const t0 = performance.now();
  const running = work().finally(() => {
    ms = performance.now() - t0;
    done = true;
  });
  while (!done) busy.push(await healthMs(url));
  return { idle, busy, result: await running, ms };
}

/** A service in a process of its own on a fresh data dir, and its administrator's token. */
async function service(): Promise<{ svc: ChildService; token: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-fair-'));
  dirs.push(dataDir);
  const svc = await spawnService({ dataDir, key: randomBytes(32).toString('hex') });
  running.push(svc);
  return { svc, token: (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim() };
}

describe('fairness', () => {
  it('a 5,000-row check leaves /api/health responsive: health p99 stays a small fraction of the batch and near idle', async () => {
    const { svc, token } = await service();
    const body = JSON.stringify({
      rows: Array.from({ length: BATCH_ROWS }, (_, i) => ({ clientRowId: i, ...enterpriseRow(i) })),
    });

    // The same rows saved first: the measured check then finds every customer taken (the heavier
    // path), and the service is warm (a fresh process pays for compiling its schemas once).
    const saved = await fetch(`${svc.url}/api/registrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    expect(saved.status).toBe(200);
    await saved.arrayBuffer();
    const { idle, busy, result, ms } = await healthAround(svc.url, async () => {
      const res = await fetch(`${svc.url}/api/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      const json = (await res.json()) as { results: unknown[] };
      return { status: res.status, rows: json.results.length };
    });
    expect(result).toEqual({ status: 200, rows: BATCH_ROWS });

    const idleP99 = p99(idle);
    const busyP99 = p99(busy);
    console.log(
      `[fairness] ${BATCH_ROWS}-row check took ${ms.toFixed(0)} ms; health idle p99 ${idleP99.toFixed(1)} ms, ` +
        `during the batch p99 ${busyP99.toFixed(1)} ms over ${busy.length} calls ` +
        `(${(busyP99 / idleP99).toFixed(1)}× idle, ${((100 * busyP99) / ms).toFixed(1)}% of the batch)`,
    );
    // Before the batch loop yielded, the only health call during it waited for the whole batch
    // (one sample ≈ the batch's duration). Now the loop gives way every few milliseconds.
    expect(busy.length).toBeGreaterThanOrEqual(10);
    expect(busyP99).toBeLessThan(ms / 4);
    expect(busyP99).toBeLessThan(50 * Math.max(idleP99, 10));
  }, 180_000);

  it('a 5,000-row sheet import leaves /api/health responsive while its rows are checked', async () => {
    const { svc, token } = await service();
    const sheet = (from: number, count: number): Buffer =>
      Buffer.from(
        csvOf([
          ENTERPRISE_SHEET_HEADER,
          ...Array.from({ length: count }, (_, i) => enterpriseSheetRow(from + i, '管理员')),
        ]),
      );
    const upload = (csv: Buffer): Promise<Response> => {
      const form = new FormData();
      form.set('file', new Blob([new Uint8Array(csv)]), 'legacy.csv');
      form.set('mode', 'submit');
      form.set('dryRun', 'false');
      return fetch(`${svc.url}/api/imports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: form,
      });
    };
    // Warm-up with other customers (schemas compiled, the worker's modules read once); the measured
    // sheet's customers are all new, so every row is looked up, numbered, sealed and committed.
    const first = await upload(sheet(100_000, 200));
    expect(first.status).toBe(201);
    await first.arrayBuffer();
    const { idle, busy, result, ms } = await healthAround(svc.url, async () => {
      const res = await upload(sheet(0, IMPORT_ROWS));
      const json = (await res.json()) as { summary: { rows: number; byStatus: Record<string, number> } };
      return { status: res.status, summary: json.summary };
    });
    expect(result).toMatchObject({ status: 201, summary: { rows: IMPORT_ROWS } });

    const idleP99 = p99(idle);
    const busyP99 = p99(busy);
    const longest = Math.max(...busy);
    console.log(
      `[fairness] ${IMPORT_ROWS}-row import took ${ms.toFixed(0)} ms (${JSON.stringify(result.summary.byStatus)}); ` +
        `health idle p99 ${idleP99.toFixed(1)} ms, during the import p99 ${busyP99.toFixed(1)} ms, longest ` +
        `${longest.toFixed(1)} ms (${((100 * longest) / ms).toFixed(1)}% of the import) over ${busy.length} calls`,
    );
    // Health calls mostly land while the worker reads or annotates the file, so the p99 says little:
    // the longest wait does. Before the import's row loop gave way, the rows were checked in one
    // turn of the event loop and the call that arrived then waited for all of them (645 ms of a
    // 2.9 s import here, 22%); with the rows giving way, the journal line's encoding was the longest
    // (171 ms of 3.4 s, 5%). What still holds the loop is applying the transaction to the store
    // (45-55 ms of 2.4-2.7 s, 2%).
    expect(busy.length).toBeGreaterThanOrEqual(10);
    expect(longest).toBeLessThan(ms / 8);
    expect(busyP99).toBeLessThan(ms / 4);
  }, 180_000);
});

/**
 * Latency of small requests while a large batch runs (issue 16, "no request starves the others"):
 * the service in its own process; `/api/health`, an authenticated read (`GET /api/me`) and a
 * one-row registration, called one after another while a 5,000-row submit and then a 5,000-row
 * check (every row matching a stored customer) run. The floor is the same call on an idle service;
 * the figures are p50/p99 and the ratio of p99 to the idle p99. Prints; asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnService } from '../test/support/childService.js';
import { enterpriseRow } from '../test/support/customers.js';

const BATCH_ROWS = Number(process.env['BENCH_BATCH_ROWS'] ?? 5_000);
const IDLE_SAMPLES = 200;

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'cpu'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}`;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  console.log(`# latency under a large batch — ${machine()}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-bench-latency-'));
  const svc = await spawnService({
    dataDir,
    key: randomBytes(32).toString('hex'),
    env: { BAOBEI_RATE_LIMIT: '1000000' },
  });
  const token = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let single = 1_000_000;

  const probes: Record<string, () => Promise<number>> = {
    'GET /api/health': () => timed(() => fetch(`${svc.url}/api/health`)),
    'GET /api/me': () => timed(() => fetch(`${svc.url}/api/me`, { headers: auth })),
    'one-row registration': () =>
      timed(() =>
        fetch(`${svc.url}/api/registrations`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ rows: [enterpriseRow(single++)] }),
        }),
      ),
  };
  const body = JSON.stringify({
    rows: Array.from({ length: BATCH_ROWS }, (_, i) => ({ clientRowId: i, ...enterpriseRow(i) })),
  });
  // Warm up: compile the schemas and the evaluation path once.
  await post(svc.url, '/api/check', auth, JSON.stringify({ rows: [enterpriseRow(0)] }));

  const idle: Record<string, number[]> = {};
  for (const [name, probe] of Object.entries(probes)) {
    idle[name] = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) idle[name].push(await probe());
  }

  for (const route of ['/api/registrations', '/api/check']) {
    for (const [name, probe] of Object.entries(probes)) {
      const samples: number[] = [];
      let done = false;
      const t0 = performance.now();
      const batch = post(svc.url, route, auth, body).then((status) => {
        done = true;
        return { status, ms: performance.now() - t0 };
      });
      while (!done) samples.push(await probe());
      const { status, ms } = await batch;
      if (status !== 200) throw new Error(`${route}: HTTP ${status}`);
      const idleP99 = percentile(idle[name]!, 99);
      const p99 = percentile(samples, 99);
      console.log(
        `${name} during a ${fmt(BATCH_ROWS)}-row ${route === '/api/check' ? 'check (every row a stored customer)' : 'submit'} ` +
          `(${fmt(ms)} ms): ${samples.length} calls, p50 ${fmt(percentile(samples, 50), 1)} ms, p99 ${fmt(p99, 1)} ms ` +
          `= ${fmt(p99 / idleP99, 1)}× idle p99 (${fmt(idleP99, 1)} ms), ${fmt((100 * p99) / ms, 1)}% of the batch`,
      );
    }
  }
  await svc.kill('SIGTERM');
  await rm(dataDir, { recursive: true, force: true });
}

async function timed(call: () => Promise<Response>): Promise<number> {
  const t = performance.now();
  const res = await call();
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return performance.now() - t;
}

async function post(
  url: string,
  route: string,
  headers: Record<string, string>,
  body: string,
): Promise<number> {
  const res = await fetch(`${url}${route}`, { method: 'POST', headers, body });
  await res.arrayBuffer();
  return res.status;
}

await main();

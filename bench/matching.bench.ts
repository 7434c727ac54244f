/**
 * Matching benchmark: 200,000 stored registrations in a MatchIndex, 20,000 rows matched against
 * them, compared with an all-pairs comparison. Prints figures; never asserts timings.
 */
import { createHmac } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  compareIdentities,
  hashIdentityKeys,
  identityKeys,
  indexKeys,
  lookupKeys,
  MatchIndex,
  type Match,
} from '../core/matching.js';
import { presetPolicy, type Policy } from '../core/policy.js';
import type { IdentityKeys } from '../core/schema.js';
import { generateQueries, generateRegistrations, type GeneratedRegistration } from './generate.js';

const STORED = 200_000;
const QUERIES = 20_000;
const ALL_PAIRS_ROWS = 2_000;
const ALL_PAIRS_RECORDS = 20_000;
/** The throughput this machine should reach (rows matched per second). */
const FLOOR_ROWS_PER_SECOND = 100_000;
const SEED = 20_260_301;
/** Timed passes over the queries. */
const PASSES = 5;

const policy: Policy = presetPolicy('standard');

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function memory(): { heap: number; rss: number } {
  collectGarbage();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

interface Timed<T> {
  value: T;
  /** Wall-clock time. */
  ms: number;
  /**
   * CPU time of this process: on a machine shared with other work it shows what the code costs
   * when wall-clock time includes waiting for a core.
   */
  cpuMs: number;
}

function time<T>(fn: () => T): Timed<T> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const value = fn();
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { value, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Runs `fn` several times: the median and the fastest run. */
function repeat<T>(passes: number, fn: () => T): { median: Timed<T>; best: Timed<T> } {
  const runs = Array.from({ length: passes }, () => time(fn)).sort((a, b) => a.ms - b.ms);
  return { median: runs[Math.floor(runs.length / 2)] as Timed<T>, best: runs[0] as Timed<T> };
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (part: number, whole: number): string => `${((100 * part) / Math.max(whole, 1)).toFixed(1)}%`;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

function printMachine(): void {
  const cpus = os.cpus();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown cpu'} × ${cpus.length}, ${mb(os.totalmem())} RAM`);
  console.log(
    `node ${process.version}, ${os.platform()} ${os.release()}, gc ${'gc' in globalThis ? 'exposed' : 'not exposed'}`,
  );
}

type Hits = { id: string; match: Match }[];

function main(): void {
  console.log('== matching benchmark ==');
  printMachine();
  if (!('gc' in globalThis))
    console.log('(run with --expose-gc, as bench/run.ts does, for exact memory figures)');

  const generated = time(() => generateRegistrations(STORED, SEED));
  const stored = generated.value.rows;
  const queries = generateQueries(generated.value, QUERIES);
  const customers = generated.value.customers;
  console.log(
    `generated ${int(stored.length)} stored rows (${int(customers.length)} customers, ` +
      `${pct(customers.filter((c) => c.type === 'individual').length, customers.length)} individuals, ` +
      `${pct(stored.filter((r) => r.kind !== 'original').length, stored.length)} repeat registrations) ` +
      `and ${int(queries.length)} query rows in ${int(generated.ms)} ms`,
  );

  const clear = measureClearKeys(stored, queries);
  measureAllPairs(clear.storedKeys, clear.queryKeys, clear.lookupMs, clear.endToEndMs);
  measureHashedKeys(clear.storedKeys, clear.queryKeys, clear.results);
}

/** Builds the index on clear keys and matches the queries; the index is dropped on return. */
function measureClearKeys(
  stored: readonly GeneratedRegistration[],
  queries: readonly (GeneratedRegistration & { fresh: boolean })[],
): {
  storedKeys: IdentityKeys[];
  queryKeys: IdentityKeys[];
  results: Hits[];
  lookupMs: number;
  endToEndMs: number;
} {
  const before = memory();
  const keyed = time(() => stored.map((row) => identityKeys(row.registration)));
  const index = new MatchIndex(policy);
  const built = time(() => keyed.value.forEach((keys, i) => index.add(String(i), keys)));
  const after = memory();
  console.log(
    `\nbuild: identity keys ${int(keyed.ms)} ms (${int(STORED / (keyed.ms / 1000))} rows/s; ` +
      `on CPU time ${int(STORED / (keyed.cpuMs / 1000))} rows/s)`,
  );
  console.log(
    `       index ${int(built.ms)} ms (${int(STORED / (built.ms / 1000))} records/s), ${int(index.size)} records`,
  );
  console.log(
    `       memory for keys + index: heapUsed +${mb(after.heap - before.heap)}, RSS +${mb(after.rss - before.rss)}`,
  );
  const queryKeys = queries.map((q) => identityKeys(q.registration));
  printFanOut(keyed.value, queryKeys);

  // The first pass warms the JIT; then several passes, since other work on the machine disturbs any
  // one of them: the median is the figure, the best shows what the code does undisturbed.
  const firstPass = time(() => queryKeys.map((keys) => index.lookup(keys)));
  const lookups = repeat(PASSES, () => queryKeys.map((keys) => index.lookup(keys)));
  const endToEnd = repeat(PASSES, () => queries.map((q) => index.lookup(identityKeys(q.registration))));
  const rate = (ms: number): string => `${int(QUERIES / (ms / 1000))} rows/s`;
  const ofFloor = (ms: number): string => `${(QUERIES / (ms / 1000) / FLOOR_ROWS_PER_SECOND).toFixed(2)}×`;
  console.log(
    `\nmatch ${int(QUERIES)} rows against ${int(STORED)} (median of ${PASSES} passes; best; first pass):`,
  );
  console.log(
    `  lookup only:            ${rate(lookups.median.ms)} = ${ofFloor(lookups.median.ms)} the ` +
      `${int(FLOOR_ROWS_PER_SECOND)} rows/s floor; best ${rate(lookups.best.ms)} (${ofFloor(lookups.best.ms)}); ` +
      `first ${rate(firstPass.ms)}; on CPU time ${rate(lookups.median.cpuMs)}`,
  );
  console.log(
    `  identity keys + lookup: ${rate(endToEnd.median.ms)} = ${ofFloor(endToEnd.median.ms)} the floor; ` +
      `best ${rate(endToEnd.best.ms)}; on CPU time ${rate(endToEnd.median.cpuMs)}`,
  );
  printQuality(stored, queries, lookups.median.value);
  return {
    storedKeys: keyed.value,
    queryKeys,
    results: lookups.median.value,
    lookupMs: lookups.median.ms,
    endToEndMs: endToEnd.median.ms,
  };
}

/** compareIdentities over every pair of a subset, scaled to all queries × all stored records. */
function measureAllPairs(
  storedKeys: readonly IdentityKeys[],
  queryKeys: readonly IdentityKeys[],
  lookupMs: number,
  endToEndMs: number,
): void {
  const pairRows = queryKeys.slice(0, ALL_PAIRS_ROWS);
  const pairRecords = storedKeys.slice(0, ALL_PAIRS_RECORDS);
  const allPairs = time(() => {
    let found = 0;
    for (const row of pairRows)
      for (const record of pairRecords) if (compareIdentities(row, record, policy)) found++;
    return found;
  });
  const pairs = ALL_PAIRS_ROWS * ALL_PAIRS_RECORDS;
  const scaledMs = allPairs.ms * ((QUERIES * STORED) / pairs);
  console.log(
    `\nall-pairs compareIdentities: ${int(pairs)} pairs in ${int(allPairs.ms)} ms ` +
      `(${((allPairs.ms * 1e6) / pairs).toFixed(0)} ns/pair; on CPU time ${((allPairs.cpuMs * 1e6) / pairs).toFixed(0)})`,
  );
  console.log(
    `  scaled to ${int(QUERIES)} × ${int(STORED)}: ${(scaledMs / 1000).toFixed(0)} s; the index is ` +
      `${int(scaledMs / lookupMs)}× faster (lookup only), ${int(scaledMs / endToEndMs)}× (with identity keys)`,
  );
}

/** The same index on HMAC-SHA-256 keys, as the server stores them; results must not change. */
function measureHashedKeys(
  storedKeys: IdentityKeys[],
  queryKeys: readonly IdentityKeys[],
  clearResults: Hits[],
): void {
  const hmacKey = Buffer.alloc(32, 7);
  const hmac = (value: string): string => createHmac('sha256', hmacKey).update(value).digest('base64url');
  const hashedStored = time(() => storedKeys.map((keys) => hashIdentityKeys(keys, hmac)));
  const index = new MatchIndex(policy);
  hashedStored.value.forEach((keys, i) => index.add(String(i), keys));
  const hashedQueries = time(() => queryKeys.map((keys) => hashIdentityKeys(keys, hmac)));
  hashedQueries.value.forEach((keys) => index.lookup(keys));
  const lookups = repeat(PASSES, () => hashedQueries.value.map((keys) => index.lookup(keys))).median;
  const sameResults = lookups.value.every((hits, i) => sameHits(hits, clearResults[i] ?? []));
  console.log(`\nHMAC-SHA-256 keys (as stored by the server; median of ${PASSES} passes):`);
  console.log(`  hashing identity keys: ${((hashedStored.ms * 1000) / STORED).toFixed(1)} µs per row`);
  console.log(
    `  lookup only: ${int(QUERIES / (lookups.ms / 1000))} rows/s; ` +
      `hash + lookup: ${int(QUERIES / ((hashedQueries.ms + lookups.ms) / 1000))} rows/s; ` +
      `same results as clear keys: ${sameResults ? 'yes' : 'NO'}`,
  );
}

function sameHits(a: { id: string; match: Match }[], b: { id: string; match: Match }[]): boolean {
  return (
    a.length === b.length &&
    a.every((hit, i) => hit.id === b[i]?.id && JSON.stringify(hit.match) === JSON.stringify(b[i]?.match))
  );
}

/** How many records a lookup fetches and compares (bucket sizes summed, before de-duplication). */
function printFanOut(records: readonly IdentityKeys[], rows: readonly IdentityKeys[]): void {
  const bucketSizes = new Map<string, number>();
  for (const keys of records)
    for (const key of new Set(indexKeys(keys))) bucketSizes.set(key, (bucketSizes.get(key) ?? 0) + 1);
  const fanOut = rows
    .map((keys) => lookupKeys(keys, policy).reduce((sum, key) => sum + (bucketSizes.get(key) ?? 0), 0))
    .sort((a, b) => a - b);
  const mean = fanOut.reduce((a, b) => a + b, 0) / Math.max(fanOut.length, 1);
  const largest = [...bucketSizes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  console.log(
    `       fan-out per lookup: mean ${mean.toFixed(1)}, p50 ${percentile(fanOut, 0.5)}, ` +
      `p99 ${percentile(fanOut, 0.99)}, max ${fanOut[fanOut.length - 1] ?? 0} records compared`,
  );
  console.log(`       largest buckets: ${largest.map(([key, n]) => `${key} (${n})`).join(', ')}`);
}

/** Did the lookups find each row's customer, at the expected strength, and nothing exact that is not? */
function printQuality(
  stored: readonly GeneratedRegistration[],
  queries: readonly (GeneratedRegistration & { fresh: boolean })[],
  results: readonly { id: string; match: Match }[][],
): void {
  const tally = new Map<
    string,
    { rows: number; exact: number; possible: number; missed: number; wrongExact: number }
  >();
  queries.forEach((query, i) => {
    const label = query.fresh ? 'new customer' : `${query.kind} (expect ${query.expect})`;
    const line = tally.get(label) ?? { rows: 0, exact: 0, possible: 0, missed: 0, wrongExact: 0 };
    tally.set(label, line);
    line.rows++;
    const hits = results[i] ?? [];
    const own = hits.filter((hit) => stored[Number(hit.id)]?.customer === query.customer);
    if (!query.fresh) {
      if (own.some((hit) => hit.match.strength === 'exact')) line.exact++;
      else if (own.length > 0) line.possible++;
      else line.missed++;
    }
    if (
      hits.some(
        (hit) => hit.match.strength === 'exact' && stored[Number(hit.id)]?.customer !== query.customer,
      )
    ) {
      line.wrongExact++;
    }
  });
  console.log("  what was found (against the generator's truth):");
  for (const [label, line] of [...tally.entries()].sort()) {
    const found =
      label === 'new customer'
        ? ''
        : `own customer exact ${pct(line.exact, line.rows)}, possible ${pct(line.possible, line.rows)}, missed ${pct(line.missed, line.rows)}; `;
    console.log(
      `    ${label.padEnd(26)} ${int(line.rows).padStart(6)} rows: ${found}exact match to another customer ${pct(line.wrongExact, line.rows)}`,
    );
  }
}

main();

/**
 * HTTP imports off the request loop: the file is read and the annotated copy written in a worker
 * thread with a heap cap (`resourceLimits`) and a wall-time limit per phase, while the checks
 * against the store and the store's write stay here (one writer, one transaction). A worker that
 * runs out of memory or time is stopped and the import refused with a code; the service goes on.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DomainError, problem, type Problem } from '../core/problem.js';
import {
  checkImportAllowed,
  evaluateImport,
  type ImportDeps,
  type ImportOptions,
  type ImportResult,
  type ParsedSubmission,
} from './import/importSheet.js';
import type { WorkerReply, WorkerRequest } from './importWorker.js';

export interface IsolationLimits {
  /** V8 old-generation cap of the worker, MB (BAOBEI_IMPORT_MEMORY_MB). */
  memoryMb: number;
  /** Wall time for each worker phase (reading, annotating), ms (BAOBEI_IMPORT_TIMEOUT_SECONDS). */
  timeoutMs: number;
}

/** The report, and the annotated copy — or, when its worker was stopped, why there is none. */
export type IsolatedImportResult = { report: ImportResult['report'] } & (
  { bytes: Buffer; problem?: undefined } | { bytes?: undefined; problem: Problem }
);

export const DEFAULT_ISOLATION: IsolationLimits = { memoryMb: 512, timeoutMs: 120_000 };

/** Parsed rows per message from the worker: each takes ~15 ms to deserialise here. */
const ROWS_PER_MESSAGE = 2_000;

/** Runs one import: read in a worker, checked here, annotated in the same worker. */
export async function importIsolated(
  bytes: Uint8Array,
  options: ImportOptions,
  deps: ImportDeps,
  limits: IsolationLimits,
): Promise<IsolatedImportResult> {
  checkImportAllowed(options, deps.actor);
  const worker = new ImportWorker(limits);
  try {
    const parsed = await worker.call(
      {
        type: 'parse',
        bytes,
        options: { fileName: options.fileName, mode: options.mode, sheet: options.sheet },
        now: deps.clock().toISOString(),
      },
      'parsed',
    );
    // The rows come over a chunk at a time: a message is deserialised in one piece on this thread,
    // and 100,000 rows in one message held the event loop for 0.8 s.
    const submissions: ParsedSubmission[] = [];
    for (let start = 0; start < parsed.rows; start += ROWS_PER_MESSAGE) {
      const chunk = await worker.call({ type: 'rows', start, count: ROWS_PER_MESSAGE }, 'rows');
      for (const submission of chunk.submissions) submissions.push(submission);
    }
    const evaluation = await evaluateImport({ ...parsed.parsed, submissions }, options, deps);
    // The copy is annotated in the worker while the store makes the rows durable. The rows are
    // checked (and, unless a dry run, registered) by then: a worker stopped while annotating loses
    // only the copy, and the report says why it is missing.
    const [annotated] = await Promise.all([
      worker.call({ type: 'annotate', request: evaluation.annotation }, 'annotated').then(
        (reply) => ({ bytes: Buffer.from(reply.bytes) }),
        (err: unknown) => {
          if (err instanceof DomainError) return { problem: err.toProblem() };
          throw err;
        },
      ),
      evaluation.committed,
    ]);
    return { report: evaluation.report, ...annotated };
  } finally {
    await worker.stop();
  }
}

/** Where the worker's code is: the TypeScript source through tsx (tests, `npm start`), or the build. */
function startWorker(limits: IsolationLimits): Worker {
  const resourceLimits = {
    maxOldGenerationSizeMb: limits.memoryMb,
    // The young generation is part of the budget too; a quarter of it, at most 64 MB.
    maxYoungGenerationSizeMb: Math.max(4, Math.min(64, Math.floor(limits.memoryMb / 4))),
  };
  const here = import.meta.url;
  if (!/\.ts$/.test(new URL(here).pathname)) {
    return new Worker(new URL('./importWorker.js', here), { resourceLimits });
  }
  // Sources run through tsx: the worker registers tsx's loader first, then loads the TypeScript.
  const tsxApi = tsxEsmApi(here);
  const entry = new URL('./importWorker.ts', here).href;
  const code =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })` +
    `.catch((err) => { setImmediate(() => { throw err; }); });`;
  return new Worker(code, { eval: true, resourceLimits });
}

/**
 * tsx's ESM API (`tsx/esm/api`, its `import` condition) as a file URL: the worker's eval'd code has
 * no module of its own to resolve a bare name from, and the CommonJS build registers a loader that
 * cannot find its ESM half from a worker.
 */
function tsxEsmApi(from: string): string {
  const require = createRequire(from);
  const manifest = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const target = pkg.exports['./esm/api']?.import?.default;
  if (!target) throw new Error('tsx has no ESM API to load the import worker with');
  return pathToFileURL(path.join(path.dirname(manifest), target)).href;
}

class ImportWorker {
  private readonly worker: Worker;
  private pending: { resolve: (reply: WorkerReply) => void; reject: (err: unknown) => void } | undefined;
  private ended: DomainError | undefined;

  constructor(private readonly limits: IsolationLimits) {
    this.worker = startWorker(limits);
    this.worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(reply);
    });
    this.worker.on('error', (err: Error & { code?: string }) => {
      this.fail(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? outOfMemory(this.limits.memoryMb) : workerFailed(err),
      );
    });
    this.worker.on('exit', () => this.fail(workerFailed(new Error('the import worker exited'))));
  }

  async call<T extends WorkerReply['type']>(
    request: WorkerRequest,
    expect: T,
  ): Promise<Extract<WorkerReply, { type: T }>> {
    if (this.ended) throw this.ended;
    const timer = setTimeout(() => {
      this.fail(timedOut(this.limits.timeoutMs));
      void this.worker.terminate();
    }, this.limits.timeoutMs);
    try {
      const reply = await new Promise<WorkerReply>((resolve, reject) => {
        this.pending = { resolve, reject };
        this.worker.postMessage(request);
      });
      if (reply.type === 'failed') {
        if (reply.problem) throw new DomainError(reply.problem, reply.details);
        // A parser that fails in a way it did not foresee (a RangeError, a string too long) failed on
        // this input: the input is refused, as any unreadable file is.
        throw unreadable();
      }
      if (reply.type !== expect) throw workerFailed(new Error(`unexpected reply ${reply.type}`));
      return reply as Extract<WorkerReply, { type: T }>;
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    this.ended ??= workerFailed(new Error('stopped'));
    await this.worker.terminate();
  }

  private fail(err: DomainError): void {
    // The first cause wins: a timeout's terminate() also ends in 'exit'.
    this.ended ??= err;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.ended);
  }
}

function outOfMemory(memoryMb: number): DomainError {
  return new DomainError(
    problem(
      'import.out_of_memory',
      `读取此文件所需内存超过 ${memoryMb} MB 的上限，导入已停止；请拆分文件或删去多余的内容后重试`,
      `Reading this file needs more than the ${memoryMb} MB memory limit; the import was stopped. Split the file or remove what it does not need and retry`,
      'file',
    ),
    { limitMb: memoryMb },
  );
}

function timedOut(timeoutMs: number): DomainError {
  const seconds = Math.round(timeoutMs / 100) / 10;
  return new DomainError(
    problem(
      'import.timeout',
      `读取此文件超过 ${seconds} 秒的时限，导入已停止；请拆分文件后重试`,
      `Reading this file took longer than the ${seconds} s limit; the import was stopped. Split the file and retry`,
      'file',
    ),
    { limitSeconds: seconds },
  );
}

function unreadable(): DomainError {
  return new DomainError(
    problem(
      'import.unreadable',
      '无法读取此文件（文件已损坏或结构异常）',
      'This file cannot be read (it is damaged or built in an unusual way)',
      'file',
    ),
  );
}

function workerFailed(err: Error): DomainError {
  return new DomainError(
    problem(
      'import.worker_failed',
      '导入进程意外结束，请稍后重试',
      'The import worker ended unexpectedly; retry shortly',
    ),
    // The worker's own words only (never the file's content): 'exited', 'stopped'.
    { reason: err.message.slice(0, 80) },
  );
}

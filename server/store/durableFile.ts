/**
 * Crash-safe file writes: write a temp file, fsync it, rename it over the target, fsync the
 * directory. After `writeFileDurably` resolves the new content survives SIGKILL and power loss;
 * if it throws, the old file is untouched. `DurableJSONFile` is lowdb's adapter on top of it
 * (lowdb's own JSONFile renames but never fsyncs).
 */
import { open, rename, rm, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Adapter } from 'lowdb';
import { DomainError, problem } from '../../core/problem.js';

/**
 * Content as one string or buffer, as chunks written in order (no giant join or re-encoding), or
 * as chunks made while the file is written (the event loop runs between them).
 */
export type FileContent = string | Uint8Array | readonly Uint8Array[] | AsyncIterable<Uint8Array>;

/** Buffers per writev call (the kernel's IOV_MAX is 1024). */
const WRITEV_BATCH = 1024;

export async function writeFileDurably(file: string, data: FileContent): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  let handle = await open(temp, 'w', 0o600);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await handle.writeFile(data);
    } else if (Symbol.asyncIterator in data) {
      for await (const chunk of data) {
        let offset = 0;
        while (offset < chunk.byteLength) {
          offset += (await handle.write(chunk, offset, chunk.byteLength - offset)).bytesWritten;
        }
      }
    } else {
      for (let i = 0; i < data.length; i += WRITEV_BATCH) {
        const batch = data.slice(i, i + WRITEV_BATCH);
        const expected = batch.reduce((n, b) => n + b.byteLength, 0);
        const { bytesWritten } = await handle.writev(batch);
        if (bytesWritten < expected) {
          // A short write: write the rest of this batch before the next one.
          const rest = Buffer.concat(batch).subarray(bytesWritten);
          let offset = 0;
          while (offset < rest.length) offset += (await handle.write(rest, offset)).bytesWritten;
        }
      }
    }
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  // The rename is only durable once the directory entry is on disk.
  handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** lowdb adapter: JSON text in one file, written durably; a file that does not parse is refused, never replaced. */
export class DurableJSONFile<T> implements Adapter<T> {
  constructor(
    readonly filename: string,
    private readonly stringify: (data: T) => FileContent = (data) => JSON.stringify(data),
    /** From the file's bytes (a file over V8's ~512 MB string limit cannot be one string). */
    private readonly parse: (bytes: Buffer) => T = (bytes) => JSON.parse(bytes.toString('utf8')) as T,
  ) {}

  async read(): Promise<T | null> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.filename);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      return this.parse(bytes);
    } catch (err) {
      throw corruptFile(this.filename, (err as Error).message);
    }
  }

  write(data: T): Promise<void> {
    return writeFileDurably(this.filename, this.stringify(data));
  }
}

export function corruptFile(file: string, why: string): DomainError {
  return new DomainError(
    problem(
      'store.corrupt',
      `数据文件已损坏，服务拒绝启动且不会覆盖它：${file}（${why}）。请从备份恢复该文件或修复后重试。`,
      `The data file is corrupt; refusing to start and leaving it untouched: ${file} (${why}). Restore it from a backup or repair it.`,
    ),
    { file },
  );
}

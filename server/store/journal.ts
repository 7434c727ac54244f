/**
 * The embedded store's append-only journal: one line per commit, `<checksum> <json>\n`, fsynced
 * before the commit is acknowledged, so a commit writes what changed and not the whole store.
 * A line cut short by a crash (the torn tail) is dropped and cut off; any other line that fails its
 * checksum means the file is damaged, and the store refuses to start rather than lose commits.
 */
import { createHash } from 'node:crypto';
import { open, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { corruptFile } from './durableFile.js';

/** Hex digits of SHA-256 kept per entry: enough to catch a damaged line, short enough not to matter. */
const CHECKSUM_CHARS = 16;
/** Buffers per writev call (the kernel's IOV_MAX is 1024). */
const WRITEV_BATCH = 1024;

function checksum(json: string | Buffer): string {
  return createHash('sha256').update(json).digest('hex').slice(0, CHECKSUM_CHARS);
}

const NEWLINE = Buffer.from('\n');

/**
 * One journal line for a JSON value, as chunks written in order: the JSON is encoded once and
 * hashed as bytes (a 1,000-record commit is ~1.3 MB; no second copy to prefix the checksum).
 */
export function encodeEntry(value: unknown): Buffer[] {
  const json = Buffer.from(JSON.stringify(value));
  return [Buffer.from(`${checksum(json)} `), json, NEWLINE];
}

export interface JournalContent {
  entries: unknown[];
  /** Bytes of whole, valid entries; anything after them is the torn tail. */
  validBytes: number;
  /** Bytes dropped at the end (a commit cut short by a crash, never acknowledged). */
  tornBytes: number;
}

/**
 * Reads a journal. `allowTornTail` is false for a journal that was closed cleanly (an older
 * generation): there, even a bad last line is damage, not a crash.
 */
export async function readJournal(file: string, allowTornTail: boolean): Promise<JournalContent | null> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const entries: unknown[] = [];
  let offset = 0;
  let line = 0;
  while (offset < buf.length) {
    line++;
    const end = buf.indexOf(0x0a, offset);
    const bad = (why: string): JournalContent => {
      // Only the last line may be torn: a bad line with more after it is damage in the middle.
      const rest = end < 0 ? buf.length : end + 1;
      if (!allowTornTail || rest < buf.length) throw corruptFile(file, `entry ${line}: ${why}`);
      return { entries, validBytes: offset, tornBytes: buf.length - offset };
    };
    if (end < 0) return bad('incomplete entry');
    const text = buf.toString('utf8', offset, end);
    const space = text.indexOf(' ');
    if (space !== CHECKSUM_CHARS) return bad('no checksum');
    const json = text.slice(space + 1);
    if (checksum(json) !== text.slice(0, space)) return bad('checksum mismatch');
    try {
      entries.push(JSON.parse(json));
    } catch {
      return bad('not JSON');
    }
    offset = end + 1;
  }
  return { entries, validBytes: offset, tornBytes: 0 };
}

/** Cuts the torn tail off, so the next append starts on a line of its own. */
export async function dropTornTail(file: string, validBytes: number): Promise<void> {
  await truncate(file, validBytes);
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The journal being appended to. Each append opens the file, writes, datasyncs and closes it:
 * the open costs microseconds next to the sync, and a journal replaced underneath (by compaction
 * or by hand) is never written through a stale descriptor.
 */
export class JournalWriter {
  private constructor(
    readonly file: string,
    /** Bytes in the file, for the compaction threshold. */
    public bytes: number,
  ) {}

  /** Opens (creating if needed) the journal; its directory entry is on disk when this resolves. */
  static async create(file: string): Promise<JournalWriter> {
    const handle = await open(file, 'a', 0o600);
    let size: number;
    try {
      size = (await handle.stat()).size;
    } finally {
      await handle.close();
    }
    await syncDir(path.dirname(file));
    return new JournalWriter(file, size);
  }

  async append(lines: readonly Buffer[]): Promise<void> {
    const handle = await open(this.file, 'a', 0o600);
    try {
      for (let i = 0; i < lines.length; i += WRITEV_BATCH) {
        const batch = lines.slice(i, i + WRITEV_BATCH);
        const expected = batch.reduce((n, b) => n + b.byteLength, 0);
        const { bytesWritten } = await handle.writev(batch);
        if (bytesWritten < expected) {
          const rest = Buffer.concat(batch).subarray(bytesWritten);
          let offset = 0;
          while (offset < rest.length) offset += (await handle.write(rest, offset)).bytesWritten;
        }
        this.bytes += expected;
      }
      // datasync writes the data and the new size; the mtime is not needed to read it back.
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

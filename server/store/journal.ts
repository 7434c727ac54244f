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
/** Room for `<checksum> ` at the start of a line; the checksum is filled in once the JSON is there. */
const PREFIX_BYTES = CHECKSUM_CHARS + 1;
/** The line buffer kept between appends; one bigger than this (a store load) is let go after its append. */
const KEPT_BUFFER_BYTES = 16 * 1024 * 1024;

function checksum(json: string | Uint8Array): string {
  return createHash('sha256').update(json).digest('hex').slice(0, CHECKSUM_CHARS);
}

/**
 * Strings at least this long that are plain ASCII are checked with one regular expression and
 * copied with one native call (a record's seal, ~800 characters); shorter ones byte by byte in JS,
 * cheaper than a native call each.
 */
const LONG_STRING = 128;
/** Printable ASCII without `"` and `\`: JSON text as it is, one byte per character. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * One journal line being built, in a buffer the writer reuses: values are written into it as JSON
 * in UTF-8 as they are walked, so a 1,000-record commit (~1.3 MB) makes no string of the whole line,
 * no string per record (JSON.stringify of a record with Chinese in it made a two-byte string and
 * ~7 MB of garbage per commit, hence young-generation collections), no fresh buffer of the line's
 * size and no second copy to hash.
 */
export class EntryBuilder {
  private length = PREFIX_BYTES;

  constructor(private buf: Buffer) {}

  /** Appends JSON text as it is (the caller makes it valid JSON as a whole). */
  text(piece: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for that, so no piece is cut short.
    this.reserve(piece.length * 3);
    this.length += this.buf.write(piece, this.length);
  }

  /**
   * Appends a value as JSON: the same bytes as `text(JSON.stringify(value))` for JSON data (plain
   * objects, arrays, strings, finite numbers, booleans, null; undefined properties left out),
   * without making that string. Anything else goes through JSON.stringify.
   */
  json(value: unknown): void {
    if (typeof value === 'string') this.string(value);
    else if (typeof value === 'number') this.text(Number.isFinite(value) ? String(value) : 'null');
    else if (value === null || typeof value === 'boolean') this.text(String(value));
    else if (Array.isArray(value)) this.array(value);
    else if (isPlainObject(value)) this.object(value);
    else this.text(JSON.stringify(value));
  }

  /** The finished line: checksum of the JSON bytes, a space, the JSON, a newline. */
  finish(): { line: Buffer; buffer: Buffer } {
    this.text('\n');
    const json = this.buf.subarray(PREFIX_BYTES, this.length - 1);
    this.buf.write(`${checksum(json)} `, 0, 'latin1');
    return { line: this.buf.subarray(0, this.length), buffer: this.buf };
  }

  private array(items: readonly unknown[]): void {
    this.byte(0x5b);
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.byte(0x2c);
      const item = items[i];
      // As JSON.stringify: what has no JSON form is null in an array.
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') this.text('null');
      else this.json(item);
    }
    this.byte(0x5d);
  }

  private object(value: Record<string, unknown>): void {
    this.byte(0x7b);
    let first = true;
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      if (!first) this.byte(0x2c);
      first = false;
      this.string(key);
      this.byte(0x3a);
      this.json(item);
    }
    this.byte(0x7d);
  }

  private string(s: string): void {
    const start = this.length;
    this.reserve(s.length + 2);
    const buf = this.buf;
    let at = start;
    buf[at++] = 0x22;
    if (s.length >= LONG_STRING && PLAIN_ASCII.test(s)) {
      at += buf.write(s, at, 'latin1');
    } else {
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
          // Escapes, non-ASCII (UTF-8) and lone surrogates: JSON.stringify's text, written from the start.
          this.text(JSON.stringify(s));
          return;
        }
        buf[at++] = c;
      }
    }
    buf[at++] = 0x22;
    this.length = at;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** Room for `bytes` more (and a newline) in the buffer, growing it if need be. */
  private reserve(bytes: number): void {
    const room = this.length + bytes + 1;
    if (room > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(room, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  // toJSON (a Date's, say) changes what JSON.stringify writes: such values go through it.
  return (proto === Object.prototype || proto === null) && !('toJSON' in value);
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
    if (end - offset < PREFIX_BYTES || buf[offset + CHECKSUM_CHARS] !== 0x20) return bad('no checksum');
    // The checksum is of the JSON's bytes: hashed as they are, decoded only once they match.
    const json = buf.subarray(offset + PREFIX_BYTES, end);
    if (checksum(json) !== buf.toString('latin1', offset, offset + CHECKSUM_CHARS))
      return bad('checksum mismatch');
    try {
      entries.push(JSON.parse(json.toString('utf8')));
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
 * or by hand) is never written through a stale descriptor. Appends run one at a time (the store's
 * flush loop), so the line buffer is the writer's to reuse.
 */
export class JournalWriter {
  private buffer: Buffer = Buffer.allocUnsafe(64 * 1024);

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

  /** Appends one line that `build` writes (its JSON); on disk (datasynced) when this resolves. */
  async append(build: (entry: EntryBuilder) => void): Promise<void> {
    const entry = new EntryBuilder(this.buffer);
    build(entry);
    const { line, buffer } = entry.finish();
    this.buffer = buffer.length > KEPT_BUFFER_BYTES ? Buffer.allocUnsafe(64 * 1024) : buffer;
    const handle = await open(this.file, 'a', 0o600);
    try {
      let offset = 0;
      while (offset < line.length) {
        offset += (await handle.write(line, offset, line.length - offset)).bytesWritten;
      }
      this.bytes += line.length;
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

/**
 * The embedded store's append-only journal: one line per commit, `<checksum> <json>\n`, fsynced
 * before the commit is acknowledged, so a commit writes what changed and not the whole store.
 * A line cut short by a crash (the torn tail) is dropped and cut off; any other line that fails its
 * checksum means the file is damaged, and the store refuses to start rather than lose commits.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fdatasync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { open, readFile, truncate } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { corruptFile } from './durableFile.js';

/** Hex digits of SHA-256 kept per entry: enough to catch a damaged line, short enough not to matter. */
const CHECKSUM_CHARS = 16;
/** Room for `<checksum> ` at the start of a line; the checksum is filled in once the JSON is there. */
const PREFIX_BYTES = CHECKSUM_CHARS + 1;
/** The line buffer kept between appends; one bigger than this (a store load) is let go after its append. */
const KEPT_BUFFER_BYTES = 16 * 1024 * 1024;
/**
 * A line whose buffer would grow past this is written out as it is built (SpilledLine): a 100,000-row
 * import's line is ~135 MB, and one buffer of it (doubled while growing) was half the import's peak RSS.
 */
const SPILL_BYTES = KEPT_BUFFER_BYTES;
/** What a spilled line starts with until its checksum is known: never hex, so never a valid line. */
const CHECKSUM_PLACEHOLDER = `${'-'.repeat(CHECKSUM_CHARS)} `;
const fdatasyncAsync = promisify(fdatasync);

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

  constructor(
    private buf: Buffer,
    /** Where a line too big for the kept buffer goes as it is built; absent: the buffer grows. */
    private readonly spill?: SpilledLine,
  ) {}

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

  /**
   * The finished line: checksum of the JSON bytes, a space, the JSON, a newline. For a spilled line,
   * `line` is only its end; the spill has the rest and fills the checksum in (SpilledLine.complete).
   */
  finish(): { line: Buffer; buffer: Buffer } {
    this.text('\n');
    if (this.spill?.started) return { line: this.buf.subarray(0, this.length), buffer: this.buf };
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
    // Position read after reserve: a spilling reserve starts the buffer over.
    this.reserve(s.length + 2);
    const buf = this.buf;
    let at = this.length;
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

  /**
   * Room for `bytes` more (and a newline) in the buffer: on the large-line path a full buffer goes
   * to the file and starts over (`length` is then 0), otherwise the buffer grows.
   */
  private reserve(bytes: number): void {
    let room = this.length + bytes + 1;
    if (room > this.buf.length && this.spill !== undefined && this.buf.length >= this.spill.chunkBytes) {
      this.spill.write(this.buf.subarray(0, this.length));
      this.length = 0;
      room = bytes + 1;
    }
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

/**
 * The large-line path: a line written to the journal a buffer at a time while it is built, its
 * SHA-256 taken as it goes. It starts with a placeholder that is never a checksum, so until
 * `complete` has written the JSON's end, filled the checksum in at the line's start (a positioned
 * write) and datasynced, a crash leaves a last line that fails its checksum: a torn tail, dropped
 * on start-up, and the commit is not acknowledged before that. Writes are synchronous, like the
 * building of the line they interleave with (to the page cache; the one datasync is awaited).
 */
class SpilledLine {
  private fd: number | undefined;
  /** Where the line starts in the file, and where its next byte goes. */
  private start = 0;
  private position = 0;
  /** Made with the first write: most lines never spill, and the commit path makes one of these each. */
  private hash: Hash | undefined;

  constructor(
    private readonly file: string,
    /** The buffer size at which the builder writes out rather than grows. */
    readonly chunkBytes: number,
  ) {}

  get started(): boolean {
    return this.fd !== undefined;
  }

  /** Writes the next bytes of the line (the first call's begin with the room for the checksum). */
  write(bytes: Buffer): void {
    let json = bytes;
    if (this.fd === undefined) {
      bytes.write(CHECKSUM_PLACEHOLDER, 0, 'latin1');
      json = bytes.subarray(PREFIX_BYTES);
      // Not opened for appending: Linux ignores the position of a write to a file opened with O_APPEND.
      this.fd = openSync(this.file, 'r+');
      this.start = this.position = fstatSync(this.fd).size;
      this.hash = createHash('sha256');
    }
    this.hash!.update(json);
    this.put(bytes, this.position);
    this.position += bytes.length;
  }

  /** Writes the line's last bytes (ending in the newline), then its checksum, then datasyncs. */
  async complete(end: Buffer): Promise<number> {
    const fd = this.fd!;
    try {
      this.hash!.update(end.subarray(0, end.length - 1));
      this.put(end, this.position);
      this.position += end.length;
      const sum = this.hash!.digest('hex').slice(0, CHECKSUM_CHARS);
      this.put(Buffer.from(sum, 'latin1'), this.start);
      await fdatasyncAsync(fd);
      return this.position - this.start;
    } catch (err) {
      // Not acknowledged: cut it off if the file still lets us (the store stops writing anyway).
      try {
        ftruncateSync(fd, this.start);
      } catch {
        // The torn line stays; start-up drops it as the last line.
      }
      throw err;
    } finally {
      this.fd = undefined;
      closeSync(fd);
    }
  }

  /** A line that will not be finished (building it threw): cut off, so the next one starts clean. */
  abandon(): void {
    if (this.fd === undefined) return;
    try {
      ftruncateSync(this.fd, this.start);
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private put(bytes: Buffer, position: number): void {
    let offset = 0;
    while (offset < bytes.length) {
      offset += writeSync(this.fd!, bytes, offset, bytes.length - offset, position + offset);
    }
  }
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
    /** Line size past which a line is written out while it is built (SpilledLine). */
    private readonly spillBytes: number,
  ) {}

  /**
   * Opens (creating if needed) the journal; its directory entry is on disk when this resolves.
   * `spillBytes` (tests) lowers the size past which a line is written while it is built.
   */
  static async create(file: string, spillBytes = SPILL_BYTES): Promise<JournalWriter> {
    const handle = await open(file, 'a', 0o600);
    let size: number;
    try {
      size = (await handle.stat()).size;
    } finally {
      await handle.close();
    }
    await syncDir(path.dirname(file));
    return new JournalWriter(file, size, spillBytes);
  }

  /**
   * Appends one line that `build` writes (its JSON); on disk (datasynced) when this resolves. A
   * `build` that awaits (to give way to the event loop) has the writer to itself meanwhile: appends
   * are made one at a time by their one caller (the store's flush loop).
   */
  async append(build: (entry: EntryBuilder) => void | Promise<void>): Promise<void> {
    const spill = new SpilledLine(this.file, this.spillBytes);
    const entry = new EntryBuilder(this.buffer, spill);
    let finished: { line: Buffer; buffer: Buffer };
    try {
      await build(entry);
      finished = entry.finish();
    } catch (err) {
      spill.abandon();
      throw err;
    }
    const { line, buffer } = finished;
    if (spill.started) {
      // A spilled line's buffer is as big as a line may grow in memory: not kept for the small
      // commits after it (it would stay resident after every large import).
      this.buffer = Buffer.allocUnsafe(64 * 1024);
      this.bytes += await spill.complete(line);
      return;
    }
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

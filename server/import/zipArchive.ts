/**
 * The ZIP container of an .xlsx, read and written by hand so that the annotated copy costs only
 * what changes: entries nobody touches are copied compressed, byte for byte (no inflate, no
 * deflate), and the few parts that change are deflated by Node's native zlib as they are written
 * (several times faster than a JavaScript deflate). Reads the central directory (ZIP64 too); writes
 * plain ZIP (an annotated sheet stays far below 4 GB).
 */
import zlib from 'node:zlib';
import { checkLimit, DEFAULT_IMPORT_LIMITS, type ImportLimits } from './importLimits.js';

/** An entry of an archive read from bytes: where its compressed data lies and what it claims to hold. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated (anything else is refused on reading). */
  method: number;
  crc: number;
  size: number;
  /** The compressed bytes: a view into the archive read, never a copy. */
  data: Uint8Array;
  /** MS-DOS time and date as the archive has them. */
  time: number;
  date: number;
  /** General-purpose flags; only the UTF-8 name bit (11) is carried over. */
  flags: number;
}

/** A part compressed for the archive: raw deflate data, and the CRC-32 and length of what it holds. */
export interface DeflatedPart {
  data: Buffer;
  crc: number;
  size: number;
}

/** Where text goes, piece by piece and in order. */
export interface TextSink {
  write(piece: string): void;
}

/** What goes into a written archive: an entry copied as it was, or a part compressed here. */
export type ZipItem = { entry: ZipEntry } | { name: string; deflated: DeflatedPart };

/** The archive is damaged, truncated, encrypted or not a ZIP at all. */
export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const UTF8_NAMES = 0x0800;
const MAX_U32 = 0xffffffff;
/** No XML part of a sheet worth importing inflates beyond this; more is a zip bomb, not a register. */
const MAX_PART_BYTES = 512 * 1024 * 1024;

/** Text is encoded and compressed in batches of about this many bytes. */
const BATCH_BYTES = 1 << 20;
/** Pieces are gathered up to this many characters before they are encoded (a few pages of a sheet's XML). */
const PENDING_CHARS = 8192;
/** An empty final block: ends a deflate stream whose batches each ended with a sync flush. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** A smallest central-directory header: 46 bytes, with no name, extra field or comment. */
const CENTRAL_HEADER_BYTES = 46;
/** Below this an entry's compression ratio is not checked (small parts of repeated markup compress 100×+). */
const RATIO_FLOOR_BYTES = 1024 * 1024;

/**
 * The entries of an archive, in the order of its central directory. The limits on entries, sizes
 * and compression ratio are checked on what the central directory declares, before anything is
 * inflated; inflating checks that no entry holds more than it declared.
 */
export function readZip(bytes: Uint8Array, limits: ImportLimits = DEFAULT_IMPORT_LIMITS): ZipEntry[] {
  try {
    return readCentralDirectory(bytes, limits);
  } catch (err) {
    // A DataView read past the end: offsets in the archive that point outside it.
    if (err instanceof RangeError) throw damaged(err.message);
    throw err;
  }
}

function readCentralDirectory(bytes: Uint8Array, limits: ImportLimits): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEndOfCentralDirectory(view);
  let count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || offset === MAX_U32) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR) throw damaged('ZIP64 locator');
    const record = Number(view.getBigUint64(locator + 8, true));
    if (record + 56 > bytes.length || view.getUint32(record, true) !== ZIP64_EOCD)
      throw damaged('ZIP64 end record');
    count = Number(view.getBigUint64(record + 32, true));
    offset = Number(view.getBigUint64(record + 48, true));
  }
  checkLimit(limits, 'maxZipEntries', count, 'ZIP');
  // Each entry takes at least a header's bytes: a count the archive cannot hold is a lie.
  if (count * CENTRAL_HEADER_BYTES > bytes.length) throw damaged('entry count');
  let total = 0;
  const entries: ZipEntry[] = [];
  const utf8 = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  for (let i = 0; i < count; i++) {
    if (offset + 46 > bytes.length || view.getUint32(offset, true) !== CENTRAL)
      throw damaged('central directory');
    const flags = view.getUint16(offset + 8, true);
    const method = view.getUint16(offset + 10, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    let compressedSize = view.getUint32(offset + 20, true);
    let size = view.getUint32(offset + 24, true);
    let localOffset = view.getUint32(offset + 42, true);
    const nameBytes = bytes.subarray(offset + 46, offset + 46 + nameLength);
    const name = (flags & UTF8_NAMES ? utf8 : latin1).decode(nameBytes);
    // ZIP64: the sizes and offset that overflowed 32 bits follow, in this order, in extra field 1.
    const extraEnd = offset + 46 + nameLength + extraLength;
    for (let p = offset + 46 + nameLength; p + 4 <= extraEnd;) {
      const id = view.getUint16(p, true);
      const length = view.getUint16(p + 2, true);
      if (id === 1) {
        let q = p + 4;
        const next = (): number => Number(view.getBigUint64((q += 8) - 8, true));
        if (size === MAX_U32) size = next();
        if (compressedSize === MAX_U32) compressedSize = next();
        if (localOffset === MAX_U32) localOffset = next();
      }
      p += 4 + length;
    }
    if (extraEnd > bytes.length) throw damaged(`central directory entry of ${name}`);
    if (flags & 1) throw new ZipFormatError(`${name} is encrypted`);
    checkLimit(limits, 'maxEntryCompressedBytes', compressedSize, name);
    checkLimit(limits, 'maxEntryBytes', size, name);
    checkLimit(limits, 'maxTotalBytes', (total += size), 'ZIP');
    if (size > RATIO_FLOOR_BYTES)
      checkLimit(limits, 'maxCompressionRatio', Math.ceil(size / Math.max(compressedSize, 1)), name);
    if (localOffset + 30 > bytes.length || view.getUint32(localOffset, true) !== LOCAL)
      throw damaged(`local header of ${name}`);
    const dataStart =
      localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    if (dataStart + compressedSize > bytes.length) throw damaged(`data of ${name}`);
    entries.push({
      name,
      method,
      crc: view.getUint32(offset + 16, true),
      size,
      data: bytes.subarray(dataStart, dataStart + compressedSize),
      time: view.getUint16(offset + 12, true),
      date: view.getUint16(offset + 14, true),
      flags,
    });
    offset = extraEnd + commentLength;
  }
  return entries;
}

/**
 * The uncompressed bytes of an entry, checked against its size and CRC. Inflated in one step into
 * one buffer of the declared size (no chunks gathered and joined: that would hold the part twice).
 */
export function inflateEntry(entry: ZipEntry): Uint8Array {
  if (entry.size > MAX_PART_BYTES) throw new ZipFormatError(`${entry.name} is too large`);
  let out: Uint8Array;
  if (entry.method === 0) out = entry.data;
  else if (entry.method === 8) {
    try {
      // maxOutputLength stops a part that inflates beyond what it declared (a zip bomb) early.
      const size = Math.max(entry.size, 1);
      out = zlib.inflateRawSync(entry.data, { chunkSize: Math.max(size, 64), maxOutputLength: size });
    } catch (err) {
      throw damaged(`${entry.name} (${(err as Error).message})`);
    }
  } else throw new ZipFormatError(`${entry.name} uses compression method ${entry.method}`);
  if (out.length !== entry.size || zlib.crc32(out) !== entry.crc) throw damaged(`${entry.name} (checksum)`);
  return out;
}

/** A ZIP archive of the items in order: copied entries keep their compressed bytes. */
export function writeZip(items: readonly ZipItem[], now = new Date()): Buffer {
  const dosTime = (now.getHours() << 11) | (now.getMinutes() << 5) | (now.getSeconds() >> 1);
  const dosDate = ((now.getFullYear() - 1980) << 9) | ((now.getMonth() + 1) << 5) | now.getDate();
  const entries = items.map((item): ZipEntry => {
    if ('entry' in item) return item.entry;
    return {
      name: item.name,
      method: 8,
      crc: item.deflated.crc,
      size: item.deflated.size,
      data: item.deflated.data,
      time: dosTime,
      date: dosDate,
      flags: /^[\x20-\x7e]*$/.test(item.name) ? 0 : UTF8_NAMES,
    };
  });
  const chunks: Uint8Array[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    if (e.size >= MAX_U32 || e.data.length >= MAX_U32 || offset >= MAX_U32)
      throw new Error(`${e.name}: the annotated workbook would need ZIP64`);
    const flags = e.flags & UTF8_NAMES;
    const local = Buffer.alloc(30 + name.length);
    local.writeUInt32LE(LOCAL, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt16LE(e.time, 10);
    local.writeUInt16LE(e.date, 12);
    local.writeUInt32LE(e.crc >>> 0, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(name.length, 26);
    name.copy(local, 30);
    const header = Buffer.alloc(46 + name.length);
    header.writeUInt32LE(CENTRAL, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(flags, 8);
    header.writeUInt16LE(e.method, 10);
    header.writeUInt16LE(e.time, 12);
    header.writeUInt16LE(e.date, 14);
    header.writeUInt32LE(e.crc >>> 0, 16);
    header.writeUInt32LE(e.data.length, 20);
    header.writeUInt32LE(e.size, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(offset, 42);
    name.copy(header, 46);
    chunks.push(local, e.data);
    central.push(header);
    offset += local.length + e.data.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, ...central, end]);
}

/**
 * Text written piece by piece and compressed as it comes: each piece is encoded at once into a
 * batch buffer of about a megabyte, which is deflated with a sync flush when full, so that the
 * batches' outputs joined, plus an empty final block, are one deflate stream. A patched sheet thus
 * never exists as one string or one buffer, only compressed; and a piece is garbage as soon as it
 * is written. (Pieces were kept as strings until their batch was joined: at 100,000 rows they
 * outlived the young generation and ~150 MB of them reached the old one before a full collection.)
 */
export class DeflatingWriter implements TextSink {
  private batch: Buffer | undefined;
  private length = 0;
  /** Pieces written and not yet encoded (fewer than PENDING_CHARS characters). */
  private pending = '';
  private readonly blocks: Buffer[] = [];
  private crc = 0;
  private size = 0;

  write(piece: string): void {
    // Small pieces (a cell's tag, a value) are gathered into a short string first: encoding costs a
    // call per piece, and a sheet's copy is written in hundreds of thousands of them.
    if (piece.length < PENDING_CHARS) {
      this.pending += piece;
      if (this.pending.length >= PENDING_CHARS) this.encodePending();
      return;
    }
    this.encodePending();
    this.encode(piece);
  }

  private encodePending(): void {
    if (this.pending === '') return;
    const pending = this.pending;
    this.pending = '';
    this.encode(pending);
  }

  private encode(piece: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for that, so no piece is cut short.
    const most = piece.length * 3;
    if (this.length + most > BATCH_BYTES) {
      this.flush();
      // A piece bigger than a batch (a part written whole) is compressed on its own.
      if (most > BATCH_BYTES) return this.deflate(Buffer.from(piece, 'utf8'));
    }
    this.batch ??= Buffer.allocUnsafe(BATCH_BYTES);
    this.length += this.batch.write(piece, this.length, 'utf8');
  }

  finish(): DeflatedPart {
    this.encodePending();
    if (this.length > 0 || this.blocks.length === 0) this.flush(true);
    this.batch = undefined;
    return { data: Buffer.concat([...this.blocks, FINAL_BLOCK]), crc: this.crc, size: this.size };
  }

  private flush(evenEmpty = false): void {
    if (this.length === 0 && !evenEmpty) return;
    this.deflate((this.batch ?? Buffer.alloc(0)).subarray(0, this.length));
    this.length = 0;
  }

  private deflate(bytes: Buffer): void {
    this.crc = zlib.crc32(bytes, this.crc);
    this.size += bytes.length;
    // Level 2: a sheet's XML compresses ~4× faster than at the default 6, the file ~20% larger.
    this.blocks.push(zlib.deflateRawSync(bytes, { level: 2, finishFlush: zlib.constants.Z_SYNC_FLUSH }));
  }
}

/** The end-of-central-directory record sits in the last 22 + 65,535 (comment) bytes. */
function findEndOfCentralDirectory(view: DataView): number {
  const last = view.byteLength - 22;
  const first = Math.max(0, last - 0xffff);
  for (let p = last; p >= first; p--) {
    if (view.getUint32(p, true) === EOCD && p + 22 + view.getUint16(p + 20, true) <= view.byteLength)
      return p;
  }
  throw damaged('end of central directory');
}

function damaged(what: string): ZipFormatError {
  return new ZipFormatError(`damaged or truncated archive: ${what}`);
}

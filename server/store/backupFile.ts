/**
 * The backup file (`baobei backup` / `restore`): a clear header line, then the store's content as
 * JSON lines, encrypted with AES-256-GCM in authenticated frames so it can be written as a stream.
 *
 *   BAOBEI-BACKUP 1\n
 *   {"format":"baobei-backup","version":1,"createdAt",…,"counts":{…},"salt":…}\n   (no personal data)
 *   frame*: plain length (u32 BE) | final (u8) | iv (12) | ciphertext | tag (16)
 *
 * The frame key is HKDF-SHA-256(backup key, salt, "baobei/backup/v1"); each frame's additional data
 * is SHA-256(header) | frame index (u64) | final flag, so a changed header, a reordered, dropped or
 * appended frame, or a cut-off file all fail to open. The backup key is not the data key: backups
 * are kept elsewhere, and the key apart from them (docs/operations.md).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { identityKeysSchema } from '../../core/schema.js';
import { DomainError, problem } from '../../core/problem.js';
import { policySchema } from '../../core/policy.js';
import { FILE_KINDS } from './fileVault.js';
import {
  auditEntrySchema,
  banSchema,
  idempotencyEntrySchema,
  notificationSchema,
  userSchema,
  type StoreDump,
} from './store.js';
import { countContent, type ContentCounts, type StoreContent, type VaultEntry } from './storeTransfer.js';

const MAGIC = 'BAOBEI-BACKUP 1\n';
export const BACKUP_FORMAT_VERSION = 1;
/** Plain bytes per frame: small enough to stream, large enough that the 33 bytes of framing do not matter. */
const FRAME_BYTES = 64 * 1024;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FRAME_HEAD = 5;
/** A header is a few hundred bytes; anything longer is not one of ours. */
const MAX_HEADER_BYTES = 64 * 1024;

export const backupHeaderSchema = z.object({
  format: z.literal('baobei-backup'),
  version: z.literal(BACKUP_FORMAT_VERSION),
  createdAt: z.string(),
  store: z.enum(['lowdb', 'postgres']),
  counts: z.record(z.string(), z.number().int()),
  /** A keyed hash (with the data key) of a fixed text: restore checks the data key before writing. */
  dataKeyCheck: z.string(),
  salt: z.string(),
  /** Derived one-way from the backup key and salt: a wrong key is told apart from a changed file. */
  keyCheck: z.string(),
});
export type BackupHeader = z.infer<typeof backupHeaderSchema>;

/** A backup key: 32 bytes, as 64 hex digits or base64/base64url (as BAOBEI_KEY). */
export function parseBackupKey(text: string, from: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64url');
  if (key.length !== 32) {
    throw new DomainError(
      problem(
        'backup.key_invalid',
        `${from} 必须是 32 字节的备份密钥（64 位十六进制或 base64）`,
        `${from} must be a 32-byte backup key (64 hex digits or base64)`,
        from,
      ),
    );
  }
  return key;
}

/** The configured backup key (config.ts `backupKey`), read from its file when one is named. */
export async function readBackupKey(
  source:
    | { variable: 'BAOBEI_BACKUP_KEY'; text: string }
    | { variable: 'BAOBEI_BACKUP_KEY_FILE'; file: string }
    | undefined,
): Promise<Buffer | undefined> {
  if (source === undefined) return undefined;
  if (source.variable === 'BAOBEI_BACKUP_KEY') return parseBackupKey(source.text, source.variable);
  let text: string;
  try {
    text = await readFile(source.file, 'utf8');
  } catch (err) {
    throw new DomainError(
      problem(
        'backup.key_unreadable',
        `无法读取备份密钥文件 ${source.file}（${(err as NodeJS.ErrnoException).code ?? 'error'}）`,
        `Cannot read the backup key file ${source.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        source.variable,
      ),
    );
  }
  return parseBackupKey(text, source.variable);
}

/** The value a data key gives for `dataKeyCheck`. */
export function dataKeyCheck(hash: (value: string) => string): string {
  return hash('baobei/backup/data-key-check');
}

/** The content as JSON lines, one entry each, so no single string holds the whole store. */
function* contentLines(content: StoreContent): Generator<string> {
  const { dump } = content;
  for (const r of dump.records) yield JSON.stringify({ t: 'record', v: r });
  yield JSON.stringify({ t: 'counters', v: dump.counters });
  for (const u of dump.users) yield JSON.stringify({ t: 'user', v: u });
  yield JSON.stringify({ t: 'policy', v: dump.policy });
  for (const b of dump.bans) yield JSON.stringify({ t: 'ban', v: b });
  for (const n of dump.notifications) yield JSON.stringify({ t: 'notification', v: n });
  for (const e of dump.idempotency) yield JSON.stringify({ t: 'idempotency', v: e });
  for (const d of dump.docs) yield JSON.stringify({ t: 'doc', v: d });
  for (const a of dump.audit) yield JSON.stringify({ t: 'audit', v: a });
  for (const f of content.files)
    yield JSON.stringify({ t: 'file', v: { file: f.file, bytes: f.bytes.toString('base64') } });
}

function frameKey(backupKey: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', backupKey, salt, 'baobei/backup/v1', 32));
}

function keyCheckOf(backupKey: Buffer, salt: Buffer): string {
  return Buffer.from(hkdfSync('sha256', backupKey, salt, 'baobei/backup/key-check/v1', 16)).toString(
    'base64',
  );
}

function frameAad(headerHash: Buffer, index: number, final: boolean): Buffer {
  const aad = Buffer.alloc(32 + 8 + 1);
  headerHash.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(index), 32);
  aad[40] = final ? 1 : 0;
  return aad;
}

/** The encrypted backup, chunk by chunk (the header first). */
export function* encodeBackup(
  content: StoreContent,
  meta: { createdAt: string; store: 'lowdb' | 'postgres'; dataKeyCheck: string },
  backupKey: Buffer,
): Generator<Buffer> {
  const salt = randomBytes(32);
  const header: BackupHeader = {
    format: 'baobei-backup',
    version: BACKUP_FORMAT_VERSION,
    createdAt: meta.createdAt,
    store: meta.store,
    counts: countContent(content),
    dataKeyCheck: meta.dataKeyCheck,
    salt: salt.toString('base64'),
    keyCheck: keyCheckOf(backupKey, salt),
  };
  const headerBytes = Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`);
  yield headerBytes;
  const headerHash = createHash('sha256').update(headerBytes).digest();
  const key = frameKey(backupKey, salt);
  let index = 0;
  const frame = (plain: Buffer, final: boolean): Buffer => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(frameAad(headerHash, index++, final));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const head = Buffer.alloc(FRAME_HEAD);
    head.writeUInt32BE(plain.length, 0);
    head[4] = final ? 1 : 0;
    return Buffer.concat([head, iv, body, cipher.getAuthTag()]);
  };
  let pending: Buffer[] = [];
  let size = 0;
  for (const line of contentLines(content)) {
    const bytes = Buffer.from(`${line}\n`);
    pending.push(bytes);
    size += bytes.length;
    while (size >= FRAME_BYTES) {
      const all = Buffer.concat(pending);
      yield frame(all.subarray(0, FRAME_BYTES), false);
      pending = [all.subarray(FRAME_BYTES)];
      size = all.length - FRAME_BYTES;
    }
  }
  yield frame(Buffer.concat(pending), true);
}

/** Reads the clear header only (no key needed): what `restore` prints before it asks for anything. */
export function readBackupHeader(bytes: Buffer): { header: BackupHeader; headerBytes: number } {
  if (!bytes.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) throw notABackup();
  const end = bytes.indexOf(0x0a, MAGIC.length);
  if (end < 0 || end - MAGIC.length > MAX_HEADER_BYTES) throw notABackup();
  let json: unknown;
  try {
    json = JSON.parse(bytes.subarray(MAGIC.length, end).toString('utf8'));
  } catch {
    throw notABackup();
  }
  const parsed = backupHeaderSchema.safeParse(json);
  if (!parsed.success) throw notABackup();
  return { header: parsed.data, headerBytes: end + 1 };
}

/**
 * Checks a backup's framing without the key: complete, ends with its final frame. What the CLI
 * checks after a download (the key stays with the service and the restore host).
 */
export function checkBackupFraming(bytes: Buffer): { header: BackupHeader; frames: number } {
  const { header, headerBytes } = readBackupHeader(bytes);
  let at = headerBytes;
  let frames = 0;
  for (;;) {
    if (at + FRAME_HEAD > bytes.length) throw backupDamaged();
    const length = bytes.readUInt32BE(at);
    const final = bytes[at + 4] === 1;
    const next = at + FRAME_HEAD + IV_BYTES + length + TAG_BYTES;
    if (length > FRAME_BYTES || next > bytes.length) throw backupDamaged();
    frames++;
    at = next;
    if (final) break;
  }
  if (at !== bytes.length) throw backupDamaged();
  return { header, frames };
}

/** Decrypts and parses a whole backup; throws before returning anything when any frame fails. */
export function decodeBackup(
  bytes: Buffer,
  backupKey: Buffer,
): { header: BackupHeader; content: StoreContent } {
  const { header, headerBytes } = readBackupHeader(bytes);
  const headerHash = createHash('sha256').update(bytes.subarray(0, headerBytes)).digest();
  const salt = Buffer.from(header.salt, 'base64');
  if (keyCheckOf(backupKey, salt) !== header.keyCheck) throw wrongKey();
  const key = frameKey(backupKey, salt);
  const plain: Buffer[] = [];
  let at = headerBytes;
  let index = 0;
  for (;;) {
    if (at + FRAME_HEAD + IV_BYTES + TAG_BYTES > bytes.length) throw backupDamaged();
    const length = bytes.readUInt32BE(at);
    const final = bytes[at + 4] === 1;
    const ivAt = at + FRAME_HEAD;
    const bodyAt = ivAt + IV_BYTES;
    const tagAt = bodyAt + length;
    if (length > FRAME_BYTES || tagAt + TAG_BYTES > bytes.length) throw backupDamaged();
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(ivAt, bodyAt));
    decipher.setAAD(frameAad(headerHash, index++, final));
    decipher.setAuthTag(bytes.subarray(tagAt, tagAt + TAG_BYTES));
    try {
      plain.push(decipher.update(bytes.subarray(bodyAt, tagAt)), decipher.final());
    } catch {
      throw backupDamaged();
    }
    at = tagAt + TAG_BYTES;
    if (final) break;
  }
  if (at !== bytes.length) throw backupDamaged();
  const content = parseLines(Buffer.concat(plain).toString('utf8'));
  const counts = countContent(content);
  if (!sameCounts(counts, header.counts)) throw backupDamaged();
  return { header, content };
}

const lineSchema = z.discriminatedUnion('t', [
  // Records were sealed by the store that wrote them and authenticated here by the backup's frames;
  // only their identity keys (which adapters index) are checked again.
  z.object({ t: z.literal('record'), v: z.looseObject({ no: z.string(), identity: identityKeysSchema }) }),
  z.object({ t: z.literal('counters'), v: z.record(z.string(), z.number().int()) }),
  z.object({ t: z.literal('user'), v: userSchema }),
  z.object({ t: z.literal('policy'), v: policySchema.nullable() }),
  z.object({ t: z.literal('ban'), v: banSchema }),
  z.object({ t: z.literal('notification'), v: notificationSchema }),
  z.object({ t: z.literal('idempotency'), v: idempotencyEntrySchema }),
  z.object({
    t: z.literal('doc'),
    v: z.object({ collection: z.string(), key: z.string(), value: z.unknown() }),
  }),
  z.object({ t: z.literal('audit'), v: auditEntrySchema }),
  z.object({
    t: z.literal('file'),
    v: z.object({
      file: z.object({
        key: z.string(),
        owner: z.string(),
        kind: z.enum(FILE_KINDS),
        createdAt: z.string(),
        expiresAt: z.string(),
      }),
      bytes: z.string(),
    }),
  }),
]);

function parseLines(text: string): StoreContent {
  const dump: StoreDump = {
    records: [],
    counters: {},
    users: [],
    policy: null,
    bans: [],
    notifications: [],
    idempotency: [],
    docs: [],
    audit: [],
  };
  const files: VaultEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const parsed = lineSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw backupDamaged();
    const entry = parsed.data;
    switch (entry.t) {
      case 'record':
        dump.records.push(entry.v as unknown as StoreDump['records'][number]);
        break;
      case 'counters':
        dump.counters = entry.v;
        break;
      case 'user':
        dump.users.push(entry.v);
        break;
      case 'policy':
        dump.policy = entry.v;
        break;
      case 'ban':
        dump.bans.push(entry.v);
        break;
      case 'notification':
        dump.notifications.push(entry.v);
        break;
      case 'idempotency':
        dump.idempotency.push(entry.v);
        break;
      case 'doc':
        dump.docs.push(entry.v);
        break;
      case 'audit':
        dump.audit.push(entry.v);
        break;
      case 'file':
        files.push({ file: entry.v.file, bytes: Buffer.from(entry.v.bytes, 'base64') });
        break;
    }
  }
  return { dump, files };
}

function sameCounts(a: ContentCounts, b: ContentCounts): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false;
  return true;
}

function notABackup(): DomainError {
  return new DomainError(
    problem('backup.not_a_backup', '这不是 Baobei 备份文件', 'This is not a Baobei backup file', 'file'),
  );
}

export function wrongKey(): DomainError {
  return new DomainError(
    problem(
      'backup.key_mismatch',
      '备份无法解密：备份密钥不是做备份时用的那把（检查 BAOBEI_BACKUP_KEY 或 BAOBEI_BACKUP_KEY_FILE）；未写入任何数据',
      'The backup cannot be decrypted: the backup key is not the one it was made with (check BAOBEI_BACKUP_KEY or BAOBEI_BACKUP_KEY_FILE); nothing was written',
      'BAOBEI_BACKUP_KEY',
    ),
  );
}

export function backupDamaged(): DomainError {
  return new DomainError(
    problem(
      'backup.damaged',
      '备份文件已损坏、被截断或被改动，拒绝恢复；未写入任何数据',
      'The backup file is damaged, cut short or was changed; refusing to restore it; nothing was written',
      'file',
    ),
  );
}

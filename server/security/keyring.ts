/**
 * Keys for personal data at rest (R35): AES-256-GCM sealing of record contents and keyed hashes
 * (HMAC-SHA-256) of identity keys, so matching works without any phone or name in clear.
 * One 32-byte master key from `BAOBEI_KEY` or a key file created at first start (mode 600);
 * encryption and hashing keys are derived from it with HKDF so neither is reused for the other.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { constants, existsSync, openSync, readFileSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { DomainError, problem } from '../../core/problem.js';
import { hmacSha256 } from './hmacSha256.js';

const SEAL_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** 128 bits is ample against collisions among a company's customers and keeps the index small. */
const HASH_BYTES = 16;
/**
 * Values up to this many UTF-16 units (a kind prefix and a name's bigram, a surname, a short trade
 * name) are hashed through a cache: their vocabulary is small and skewed, so most rows repeat them.
 */
const CACHED_HASH_MAX_CHARS = 8;
/** The cache's entries (a few MB); once full it keeps the values seen first, the frequent ones. */
export const HASH_CACHE_ENTRIES = 65_536;

export interface Keyring {
  /** Encrypts text; the result is `v1.<base64url(iv | ciphertext | tag)>`. */
  seal(plain: string): string;
  /** Decrypts what `seal` made; throws `store.key_mismatch` when the key is not the one that sealed it. */
  open(sealed: string): string;
  /** Keyed hash of a normalised identity value: deterministic, not reversible without the key. */
  hash(value: string): string;
  /**
   * Encrypts bytes (files kept at rest: import reports, annotated workbooks): `0x01 | iv | ciphertext | tag`.
   * `aad` is authenticated, not encrypted: the clear header a file travels with, so it cannot be swapped.
   */
  sealBytes(plain: Uint8Array, aad?: Uint8Array): Buffer;
  /** Decrypts what `sealBytes` made with the same `aad`; throws `store.key_mismatch` otherwise. */
  openBytes(sealed: Uint8Array, aad?: Uint8Array): Buffer;
}

const BYTES_VERSION = 0x01;

export function keyringFromMasterKey(master: Buffer): Keyring {
  if (master.length !== 32) throw new Error('master key must be 32 bytes');
  const encKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'baobei/seal/v1', 32));
  const macKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'baobei/match-hash/v1', 32));
  // HMAC-SHA-256 from precomputed key states: the same digests as createHmac, so stored keys stay valid.
  // No cache of long values (names, phones, credit codes): nearly all differ, so a look-up of a fresh
  // string costs more than the two compressions it saves, and 100,000 entries would only grow the heap.
  // Short ones (a row's ~6.5 bigrams, surname and blocks) hit a 65,536-entry cache ~80% of the time
  // at 100,000 stored: 5–6 → 1.5–3 µs per row (measured alone, load ≈ 3.4).
  const hmac = hmacSha256(macKey, HASH_BYTES);
  const shortHashes = new Map<string, string>();
  const hash = (value: string): string => {
    if (value.length > CACHED_HASH_MAX_CHARS) return hmac(value);
    let digest = shortHashes.get(value);
    if (digest === undefined) {
      digest = hmac(value);
      if (shortHashes.size < HASH_CACHE_ENTRIES) shortHashes.set(value, digest);
    }
    return digest;
  };
  // Random IVs drawn from a pool: one call for random bytes per 1,024 records sealed (a batch of
  // 1,000 rows seals as many), not one each. Each IV is still 96 fresh random bits, used once.
  let ivPool = Buffer.alloc(0);
  let ivOffset = 0;
  const nextIv = (): Buffer => {
    if (ivOffset + IV_BYTES > ivPool.length) {
      ivPool = randomBytes(IV_BYTES * 1024);
      ivOffset = 0;
    }
    const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
    ivOffset += IV_BYTES;
    return iv;
  };
  return {
    seal(plain) {
      const iv = nextIv();
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      // iv | ciphertext | tag written into one buffer (GCM's ciphertext is as long as the text).
      const body = cipher.update(plain, 'utf8');
      const out = Buffer.allocUnsafe(IV_BYTES + body.length + TAG_BYTES);
      iv.copy(out, 0);
      body.copy(out, IV_BYTES);
      const rest = cipher.final();
      if (rest.length !== 0) throw new Error('AES-GCM returned text at final');
      cipher.getAuthTag().copy(out, IV_BYTES + body.length);
      return flatSealText(out);
    },
    open(sealed) {
      const dot = sealed.indexOf('.');
      if (dot < 0 || sealed.slice(0, dot) !== SEAL_VERSION) throw keyMismatch();
      const raw = Buffer.from(sealed.slice(dot + 1), 'base64url');
      if (raw.length < IV_BYTES + TAG_BYTES) throw keyMismatch();
      const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      try {
        // GCM gives all of the text at update; final only checks the tag (and throws when it differs).
        const text = decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES));
        if (decipher.final().length !== 0) throw keyMismatch();
        return text.toString('utf8');
      } catch {
        throw keyMismatch();
      }
    },
    hash,
    sealBytes(plain, aad) {
      const iv = nextIv();
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      if (aad) cipher.setAAD(aad);
      const body = cipher.update(plain);
      cipher.final();
      return Buffer.concat([Buffer.of(BYTES_VERSION), iv, body, cipher.getAuthTag()]);
    },
    openBytes(sealed, aad) {
      const raw = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
      if (raw.length < 1 + IV_BYTES + TAG_BYTES || raw[0] !== BYTES_VERSION) throw keyMismatch();
      const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(1, 1 + IV_BYTES));
      if (aad) decipher.setAAD(aad);
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      try {
        const text = decipher.update(raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES));
        decipher.final();
        return text;
      } catch {
        throw keyMismatch();
      }
    },
  };
}

/** `v1.`, in front of a seal's base64url text. */
const SEAL_PREFIX = `${SEAL_VERSION}.`;

/**
 * `v1.<base64url(bytes)>` as one flat string. Joining the prefix to the encoded text (`+` or a
 * template) makes a V8 cons string, which the store keeps as the record's seal; the first JSON
 * write of it (the journal line, a snapshot) then flattens it into a new copy that survives as
 * long as the record, so every committed seal was held twice in the old generation until the next
 * full collection: ~90 MB at the end of a 100,000-row import. `Array.prototype.join` writes its
 * parts into one sequential string, so the text is flat from the start and its pieces die young.
 * (It was written into a buffer and decoded again before: two more copies, ~0.4 µs of a ~8 µs seal.)
 */
export function flatSealText(raw: Buffer): string {
  return [SEAL_PREFIX, raw.toString('base64url')].join('');
}

function keyMismatch(): DomainError {
  return new DomainError(
    problem(
      'store.key_mismatch',
      '数据无法解密：加密密钥与写入数据时的密钥不一致（检查 BAOBEI_KEY 或密钥文件）',
      'Data cannot be decrypted: the key differs from the one that wrote it (check BAOBEI_KEY or the key file)',
    ),
  );
}

/** Parses `BAOBEI_KEY`: 32 bytes as 64 hex digits or base64/base64url. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64url');
  if (key.length !== 32) {
    throw new DomainError(
      problem(
        'config.key_invalid',
        'BAOBEI_KEY 必须是 32 字节的密钥（64 位十六进制或 base64）',
        'BAOBEI_KEY must be a 32-byte key (64 hex digits or base64)',
        'BAOBEI_KEY',
      ),
    );
  }
  return key;
}

/**
 * The master key: from the environment when given, else the key file, created with mode 600 the
 * first time. The file is written with O_EXCL so two first starts cannot make two keys.
 */
export function loadMasterKey(
  envKey: string | undefined,
  keyFile: string,
): { key: Buffer; source: 'env' | 'file' } {
  if (envKey !== undefined && envKey.trim() !== '') return { key: parseMasterKey(envKey), source: 'env' };
  if (!existsSync(keyFile)) {
    const key = randomBytes(32);
    const fd = openSync(keyFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      writeSync(fd, `${key.toString('base64url')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return { key, source: 'file' };
  }
  return { key: parseMasterKey(readFileSync(keyFile, 'utf8')), source: 'file' };
}

/**
 * The file vault port: files the service keeps for a while beside the store — import reports and
 * annotated workbooks — sealed with the data key (AES-256-GCM, R35), each with an owner and an
 * expiry, kept out of the main store document so an upload never grows every later write.
 * Adapters: sealed files in the data dir (beside lowdb), a table (beside PostgreSQL).
 */
import type { Keyring } from '../security/keyring.js';

export const FILE_KINDS = ['import.report', 'import.annotated'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** A file's clear header: what quota, expiry and authorisation need, never customer data. */
export interface VaultFile {
  /** `<import id>.<kind suffix>`: letters, digits, `.`, `_`, `-` only. */
  key: string;
  /** The user id of the uploader. */
  owner: string;
  kind: FileKind;
  createdAt: string;
  expiresAt: string;
  /** Sealed size in bytes (what the quota counts). */
  size: number;
}

export type NewVaultFile = Omit<VaultFile, 'size'>;

export interface FileVault {
  readonly kind: 'dir' | 'postgres';
  /** Seals and keeps a file (replacing one with the same key); resolves once it is durable. */
  put(file: NewVaultFile, plain: Uint8Array): Promise<VaultFile>;
  /** The header without opening the file. */
  head(key: string): Promise<VaultFile | undefined>;
  /** The file decrypted; only for a caller already authorised from `head`. */
  open(key: string): Promise<{ file: VaultFile; bytes: Buffer } | undefined>;
  /** False when there was no such file. */
  remove(key: string): Promise<boolean>;
  /** Headers, of one owner's files or of all, and only those expired at an instant when given. */
  list(query?: { owner?: string; expiredAt?: string }): Promise<VaultFile[]>;
  close(): Promise<void>;
}

const KEY_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,119}$/;

export function checkFileKey(key: string): string {
  if (!KEY_PATTERN.test(key) || key.includes('..')) throw new Error(`bad vault file key "${key}"`);
  return key;
}

/** What the seal authenticates with the bytes: a header moved onto another file fails to open. */
function aadOf(file: NewVaultFile): Buffer {
  return Buffer.from(JSON.stringify([file.key, file.owner, file.kind, file.createdAt, file.expiresAt]));
}

export function sealFile(keyring: Keyring, file: NewVaultFile, plain: Uint8Array): Buffer {
  return keyring.sealBytes(plain, aadOf(file));
}

export function openFile(keyring: Keyring, file: NewVaultFile, sealed: Uint8Array): Buffer {
  return keyring.openBytes(sealed, aadOf(file));
}

export function matchesQuery(file: VaultFile, query: { owner?: string; expiredAt?: string }): boolean {
  if (query.owner !== undefined && file.owner !== query.owner) return false;
  if (query.expiredAt !== undefined && !(file.expiresAt <= query.expiredAt)) return false;
  return true;
}

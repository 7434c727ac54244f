/**
 * The file vault in the data dir (beside the lowdb store): one file per kept file under `files/`,
 * `BBV1 | header length (u32) | header JSON | sealed bytes`. The header holds only what quota and
 * expiry need (owner id, kind, instants); everything else is inside the seal.
 */
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Keyring } from '../security/keyring.js';
import { writeFileDurably } from './durableFile.js';
import {
  checkFileKey,
  FILE_KINDS,
  matchesQuery,
  openFile,
  sealFile,
  type FileVault,
  type NewVaultFile,
  type VaultFile,
} from './fileVault.js';

const MAGIC = Buffer.from('BBV1');
const SUFFIX = '.sealed';
/** A header is a few hundred bytes; anything longer is not one of ours. */
const MAX_HEADER_BYTES = 4096;

const headerSchema = z.object({
  key: z.string(),
  owner: z.string(),
  kind: z.enum(FILE_KINDS),
  createdAt: z.string(),
  expiresAt: z.string(),
});

export class DirFileVault implements FileVault {
  readonly kind = 'dir' as const;

  private constructor(
    private readonly dir: string,
    private readonly keyring: Keyring,
  ) {}

  static async open(options: { dataDir: string; keyring: Keyring }): Promise<DirFileVault> {
    const dir = path.join(options.dataDir, 'files');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new DirFileVault(dir, options.keyring);
  }

  async put(file: NewVaultFile, plain: Uint8Array): Promise<VaultFile> {
    const header = Buffer.from(
      JSON.stringify({
        key: checkFileKey(file.key),
        owner: file.owner,
        kind: file.kind,
        createdAt: file.createdAt,
        expiresAt: file.expiresAt,
      }),
    );
    const length = Buffer.alloc(4);
    length.writeUInt32BE(header.length);
    const sealed = sealFile(this.keyring, file, plain);
    const chunks = [MAGIC, length, header, sealed];
    await writeFileDurably(this.pathOf(file.key), chunks);
    return { ...file, size: chunks.reduce((n, c) => n + c.length, 0) };
  }

  async head(key: string): Promise<VaultFile | undefined> {
    return (await this.read(key, false))?.file;
  }

  async open(key: string): Promise<{ file: VaultFile; bytes: Buffer } | undefined> {
    const found = await this.read(key, true);
    if (!found) return undefined;
    return { file: found.file, bytes: openFile(this.keyring, found.file, found.sealed!) };
  }

  async remove(key: string): Promise<boolean> {
    try {
      await rm(this.pathOf(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async list(query: { owner?: string; expiredAt?: string } = {}): Promise<VaultFile[]> {
    const out: VaultFile[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith(SUFFIX) || name.startsWith('.')) continue;
      const file = await this.head(name.slice(0, -SUFFIX.length)).catch(() => undefined);
      if (file && matchesQuery(file, query)) out.push(file);
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  async close(): Promise<void> {
    // Nothing held open between calls.
  }

  private pathOf(key: string): string {
    return path.join(this.dir, `${checkFileKey(key)}${SUFFIX}`);
  }

  private async read(
    key: string,
    withBody: boolean,
  ): Promise<{ file: VaultFile; sealed?: Buffer } | undefined> {
    let handle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      const start = Buffer.alloc(Math.min(size, 8 + MAX_HEADER_BYTES));
      await handle.read(start, 0, start.length, 0);
      const headerLength = start.length >= 8 ? start.readUInt32BE(4) : 0;
      if (!start.subarray(0, 4).equals(MAGIC) || headerLength === 0 || headerLength > MAX_HEADER_BYTES) {
        throw new Error(`${key}: not a sealed vault file`);
      }
      const header = headerSchema.parse(JSON.parse(start.subarray(8, 8 + headerLength).toString('utf8')));
      if (header.key !== key) throw new Error(`${key}: header names another file`);
      const file: VaultFile = { ...header, size };
      if (!withBody) return { file };
      const sealed = Buffer.alloc(size - 8 - headerLength);
      await handle.read(sealed, 0, sealed.length, 8 + headerLength);
      return { file, sealed };
    } finally {
      await handle.close();
    }
  }
}

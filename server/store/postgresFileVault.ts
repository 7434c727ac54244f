/**
 * The file vault in PostgreSQL (beside the PostgreSQL store): one row per kept file in
 * `<schema>.sealed_files`, the header in columns (owner id, kind, instants — never customer data)
 * and the bytes sealed. Its own small pool and its own table, created if absent, so the store's
 * migrations stay the store's.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Keyring } from '../security/keyring.js';
import { pgSchemaNameProblem } from './pgSchemaName.js';
import { postgresUnreachable } from './postgresReach.js';
import {
  checkFileKey,
  FILE_KINDS,
  openFile,
  sealFile,
  type FileKind,
  type FileVault,
  type NewVaultFile,
  type VaultFile,
} from './fileVault.js';

interface Row {
  key: string;
  owner: string;
  kind: string;
  created_at: string;
  expires_at: string;
  size: number;
}

export class PostgresFileVault implements FileVault {
  readonly kind = 'postgres' as const;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
    private readonly keyring: Keyring,
    /** For `store.unreachable`'s message (host, port and database only). */
    private readonly connectionString: string,
  ) {}

  static async open(options: {
    connectionString: string;
    schema?: string;
    keyring: Keyring;
  }): Promise<PostgresFileVault> {
    const schema = options.schema ?? 'baobei';
    const refused = pgSchemaNameProblem(schema);
    if (refused !== undefined) throw new Error(`invalid PostgreSQL schema name "${schema}": ${refused}`);
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: 2,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
      application_name: 'baobei-files',
    });
    pool.on('error', () => undefined);
    const table = `${schema}.sealed_files`;
    const client = await pool.connect().catch(async (err: unknown) => {
      await pool.end();
      throw err;
    });
    try {
      // CREATE … IF NOT EXISTS is not safe against itself: two instances starting together on a
      // fresh schema both pass the check and one fails on a catalog unique index (pg_type,
      // pg_namespace) and stops. A transaction-level advisory lock of the vault's own lets one in at a time.
      const lockId = createHash('sha256').update(`baobei/file-vault/${schema}`).digest().readBigInt64BE(0);
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${lockId})`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      // Instants as ISO text: they compare as the other stores' instants do, without time-zone rounding.
      await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
        key text PRIMARY KEY,
        owner text NOT NULL,
        kind text NOT NULL,
        created_at text NOT NULL,
        expires_at text NOT NULL,
        size integer NOT NULL,
        sealed bytea NOT NULL
      )`);
      await client.query(`CREATE INDEX IF NOT EXISTS sealed_files_owner ON ${table} (owner)`);
      await client.query(`CREATE INDEX IF NOT EXISTS sealed_files_expires ON ${table} (expires_at)`);
      await client.query('COMMIT');
      client.release();
    } catch (err) {
      client.release(true);
      await pool.end();
      throw err;
    }
    return new PostgresFileVault(pool, table, options.keyring, options.connectionString);
  }

  async put(file: NewVaultFile, plain: Uint8Array): Promise<VaultFile> {
    const sealed = sealFile(this.keyring, file, plain);
    await this.query(
      `INSERT INTO ${this.table} (key, owner, kind, created_at, expires_at, size, sealed)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, kind = excluded.kind,
         created_at = excluded.created_at, expires_at = excluded.expires_at, size = excluded.size,
         sealed = excluded.sealed`,
      [checkFileKey(file.key), file.owner, file.kind, file.createdAt, file.expiresAt, sealed.length, sealed],
    );
    return { ...file, size: sealed.length };
  }

  async head(key: string): Promise<VaultFile | undefined> {
    const { rows } = await this.query<Row>(
      `SELECT key, owner, kind, created_at, expires_at, size FROM ${this.table} WHERE key = $1`,
      [checkFileKey(key)],
    );
    return rows[0] ? fileOf(rows[0]) : undefined;
  }

  async open(key: string): Promise<{ file: VaultFile; bytes: Buffer } | undefined> {
    const { rows } = await this.query<Row & { sealed: Buffer }>(
      `SELECT key, owner, kind, created_at, expires_at, size, sealed FROM ${this.table} WHERE key = $1`,
      [checkFileKey(key)],
    );
    const row = rows[0];
    if (!row) return undefined;
    const file = fileOf(row);
    return { file, bytes: openFile(this.keyring, file, row.sealed) };
  }

  async remove(key: string): Promise<boolean> {
    const { rowCount } = await this.query(`DELETE FROM ${this.table} WHERE key = $1`, [checkFileKey(key)]);
    return (rowCount ?? 0) > 0;
  }

  async list(query: { owner?: string; expiredAt?: string } = {}): Promise<VaultFile[]> {
    const { rows } = await this.query<Row>(
      `SELECT key, owner, kind, created_at, expires_at, size FROM ${this.table}
       WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR expires_at COLLATE "C" <= $2)
       ORDER BY created_at, key`,
      [query.owner ?? null, query.expiredAt ?? null],
    );
    return rows.map(fileOf);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * The database lost while running is `store.unreachable` (HTTP 503, zh+en) here as in the store:
   * an import's file kept or fetched during an outage must not answer a generic 500.
   */
  private async query<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw postgresUnreachable(err, this.connectionString) ?? err;
    }
  }
}

function fileOf(row: Row): VaultFile {
  if (!(FILE_KINDS as readonly string[]).includes(row.kind)) throw new Error(`unknown file kind ${row.kind}`);
  return {
    key: row.key,
    owner: row.owner,
    kind: row.kind as FileKind,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    size: Number(row.size),
  };
}

/**
 * Where a store is: the one the configuration names (the service's, and the store a command such as
 * `backup` or `rekey` works on), and the places a `store copy` or `restore` is pointed at by its
 * options. One description each, so the service and the commands never disagree on the store.
 */
import path from 'node:path';
import { DomainError, problem } from '../core/problem.js';
import type { Config } from './config.js';
import { isPostgresUrl } from './store/postgresReach.js';
import type { StoreLocation } from './store/storeTransfer.js';

/**
 * The store the configuration names (BAOBEI_STORE, BAOBEI_DATA_DIR, DATABASE_URL, BAOBEI_PG_SCHEMA),
 * all checked when the configuration was loaded: any schema name BAOBEI_PG_SCHEMA accepts.
 */
export function configuredLocation(config: Config): StoreLocation {
  return config.store === 'postgres'
    ? { kind: 'postgres', connectionString: config.databaseUrl!, schema: config.pgSchema }
    : { kind: 'lowdb', dataDir: config.dataDir };
}

/** A copy's or a restore's options naming a place; what they leave out, the configuration gives. */
export interface LocationOptions {
  dataDir?: string | undefined;
  pgUrl?: string | undefined;
  pgSchema?: string | undefined;
}

/**
 * A place a copy or restore reads or writes, from its options with the configuration as default. A
 * schema name is held to 41 characters, so the staging schema beside it (a suffix) still fits
 * PostgreSQL's 63.
 */
export function locationOf(
  kind: 'lowdb' | 'postgres',
  options: LocationOptions,
  config: Config,
): StoreLocation {
  if (kind === 'lowdb') return { kind, dataDir: path.resolve(options.dataDir ?? config.dataDir) };
  const connectionString = options.pgUrl ?? config.databaseUrl;
  if (connectionString === undefined) {
    throw new DomainError(
      problem(
        'store.pg_url_missing',
        'PostgreSQL 存储需要连接地址：用 --pg-url 或 DATABASE_URL 提供',
        'A PostgreSQL store needs its address: give --pg-url or DATABASE_URL',
        'pg-url',
      ),
    );
  }
  // DATABASE_URL was checked with the configuration; a --pg-url is checked here, alike.
  if (!isPostgresUrl(connectionString)) {
    throw new DomainError(
      problem(
        'store.pg_url_invalid',
        'PostgreSQL 连接地址须为 postgres:// 或 postgresql:// 地址',
        'The PostgreSQL address must be a postgres:// or postgresql:// URL',
        'pg-url',
      ),
    );
  }
  const schema = options.pgSchema ?? config.pgSchema;
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(schema)) {
    throw new DomainError(
      problem(
        'store.pg_schema_invalid',
        `schema 名无效：${schema}（小写字母、数字和 _，至多 41 个字符）`,
        `Invalid schema name: ${schema} (lower-case letters, digits and _, at most 41 characters)`,
        'pg-schema',
      ),
    );
  }
  return { kind, connectionString, schema };
}

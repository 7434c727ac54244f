/**
 * A real store of each kind that a test can restart and, on PostgreSQL, open a second instance of:
 * a lowdb data dir in a temp folder, or a PostgreSQL schema of its own (dropped on dispose). For
 * the sweep tests, whose passes depend on what a store remembers across restarts and instances.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Keyring } from '../../server/security/keyring.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import type { Store } from '../../server/store/store.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from './postgresSchema.js';

export interface RestartableStore {
  store: Store;
  /** Closes the store and opens it again on the same data: a restart. */
  reopen(): Promise<Store>;
  /** A second service instance on the same data, where the store allows one (PostgreSQL). */
  another?(): Promise<Store>;
  dispose(): Promise<void>;
}

export async function restartableLowdb(keyring: Keyring): Promise<RestartableStore> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-restartable-'));
  let store = await LowdbStore.open({ dataDir, keyring });
  return {
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = await LowdbStore.open({ dataDir, keyring });
      return store;
    },
    async dispose() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function restartablePostgres(keyring: Keyring): Promise<RestartableStore> {
  const schema = uniqueSchema('baobei_test');
  const open = () => PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
  let store = await open();
  const others: Store[] = [];
  return {
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = await open();
      return store;
    },
    async another() {
      const other = await open();
      others.push(other);
      return other;
    },
    async dispose() {
      for (const other of others) await other.close();
      await store.close();
      await dropSchema(DATABASE_URL, schema);
    },
  };
}

/** Shanghai wall-clock time (UTC+8). */
export function shanghaiAt(day: string, time: string): Date {
  return new Date(`${day}T${time}:00+08:00`);
}

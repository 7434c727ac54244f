/**
 * The configured store's location is one function for the service and the store commands: a
 * schema name BAOBEI_PG_SCHEMA accepts (up to 63 characters) is the store `rekey` works on, not a
 * copy target held to 41 characters so a staging suffix still fits.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { openStore } from '../../server/service.js';
import { runRekey } from '../../server/storeCommand.js';
import { configuredLocation, locationOf } from '../../server/storeLocation.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baobei-location-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('the configured store location', () => {
  it('is what a store command resolves with no options of its own (lowdb and PostgreSQL)', async () => {
    const dataDir = await tempDir();
    const lowdb = loadConfig({ BAOBEI_DATA_DIR: dataDir });
    expect(configuredLocation(lowdb)).toEqual({ kind: 'lowdb', dataDir });
    expect(locationOf(lowdb.store, {}, lowdb)).toEqual(configuredLocation(lowdb));
    const postgres = loadConfig({
      BAOBEI_DATA_DIR: dataDir,
      BAOBEI_STORE: 'postgres',
      DATABASE_URL: TEST_DATABASE_URL,
      BAOBEI_PG_SCHEMA: 'baobei_east',
    });
    expect(configuredLocation(postgres)).toEqual({
      kind: 'postgres',
      connectionString: TEST_DATABASE_URL,
      schema: 'baobei_east',
    });
    expect(locationOf(postgres.store, {}, postgres)).toEqual(configuredLocation(postgres));
  });

  it('rekey works on a configured schema longer than a copy target may be (42 to 63 characters)', async () => {
    // 63 characters at most, as PostgreSQL and BAOBEI_PG_SCHEMA allow; over the 41 of a copy target.
    const schema = uniqueSchema('baobei_long_schema_name_for_the_east_office').slice(0, 63);
    expect(schema.length).toBeGreaterThan(41);
    cleanups.push(() => dropSchema(TEST_DATABASE_URL, schema));
    const config = loadConfig({
      BAOBEI_DATA_DIR: await tempDir(),
      BAOBEI_KEY: randomBytes(32).toString('hex'),
      BAOBEI_STORE: 'postgres',
      DATABASE_URL: TEST_DATABASE_URL,
      BAOBEI_PG_SCHEMA: schema,
    });
    // The service made this store; rekey must find it where the service keeps it.
    const { store } = await openStore(config, 'test');
    await store.close();
    const said: string[] = [];
    await runRekey(config, (line) => said.push(line));
    // An empty store: re-keyed in full, none of its 0 records left out.
    expect(said.at(-1)).toMatch(/identity re-key done: 0 checked, 0 re-keyed/);
  });
});

/**
 * PostgreSQL lost while the service runs (restart, failover, network): requests answer 503
 * `store.unreachable` in Chinese and English, as the start-up does, not a generic 500. The database
 * is reached through a TCP relay the test closes, so the shared server itself is never stopped.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { PostgresFileVault } from '../../server/store/postgresFileVault.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type ErrorBody } from '../support/testService.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

const target = new URL(DATABASE_URL);
const schema = `outage_${randomBytes(6).toString('hex')}`;
afterAll(async () => {
  await dropSchema(DATABASE_URL, schema);
});

/** A relay to the test database; `cut` drops every connection and refuses new ones. */
async function relay(): Promise<{ url: string; cut: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(DATABASE_URL);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    cut: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

it(
  'a database lost while running answers 503 store.unreachable (zh+en), not 500',
  { timeout: 60_000 },
  async () => {
    const db = await relay();
    const svc = await startTestService({
      env: { BAOBEI_STORE: 'postgres', DATABASE_URL: db.url, BAOBEI_PG_SCHEMA: schema },
    });
    try {
      const token = await svc.user('王磊', 'sales', '华东一部');
      expect((await svc.api(token).get('/api/registrations')).status).toBe(200);
      await db.cut();
      for (const res of [
        await svc.api(token).get<ErrorBody>('/api/registrations'),
        await svc.api(token).post<ErrorBody>('/api/registrations', { rows: [enterpriseRow(1)] }),
      ]) {
        expect(res.status, JSON.stringify(res.body)).toBe(503);
        expect(res.body.error.code).toBe('store.unreachable');
        expect(res.body.error.message).toContain('PostgreSQL');
        expect(res.body.error.messageEn).toContain('Cannot use PostgreSQL');
      }
    } finally {
      await svc.close();
    }
  },
);

it('the file vault (an import’s kept files) answers store.unreachable too when the database is lost', async () => {
  const db = await relay();
  const vault = await PostgresFileVault.open({
    connectionString: db.url,
    schema,
    keyring: keyringFromMasterKey(randomBytes(32)),
  });
  try {
    expect(await vault.head('import-missing')).toBeUndefined();
    await db.cut();
    await expect(vault.head('import-missing')).rejects.toMatchObject({ code: 'store.unreachable' });
    await expect(vault.list()).rejects.toMatchObject({ code: 'store.unreachable' });
  } finally {
    await vault.close();
  }
});

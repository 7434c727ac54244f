/**
 * A restart after downtime (R25, R31, R44): the records whose follow-up lapsed while the service
 * was down are written void by the first sweep before any request is answered, so nothing reads
 * or writes them as still protected in between. Real restarts of a real service on the same data
 * (a lowdb data dir, a PostgreSQL schema); on PostgreSQL the test holds the lapsing record's row
 * so that the first sweep is seen waiting, and what the port answers meanwhile.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordView } from '../../server/services/recordView.js';
import type { RowResult } from '../../core/schema.js';
import { enterpriseRow } from '../support/customers.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';
import { apiClient, startTestService, type ErrorBody, type TestService } from '../support/testService.js';
import { at } from '../support/shanghaiTime.js';

/** A port nothing listens on right now, so the test knows where the restarted service will answer. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Setup {
  env: Record<string, string>;
  dataDir: string;
  key: string;
  wang: string;
  no: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Wang holds a customer under the follow-up preset from Mon 2026-03-02 (first visit due 03-05);
 * the service then stops, and is down until the record has lapsed (03-06).
 */
async function lapsedWhileDown(schema: string | undefined): Promise<Setup> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-start-sweep-'));
  const key = randomBytes(32).toString('hex');
  const env: Record<string, string> =
    schema !== undefined ? { BAOBEI_STORE: 'postgres', DATABASE_URL, BAOBEI_PG_SCHEMA: schema } : {};
  cleanups.push(async () => {
    await rm(dataDir, { recursive: true, force: true });
    if (schema !== undefined) await dropSchema(DATABASE_URL, schema);
  });
  const first = await startTestService({ now: at('2026-03-02', '09:00'), dataDir, keepData: true, key, env });
  try {
    expect((await first.api(first.adminToken).put('/api/policy', { preset: 'follow-up' })).status).toBe(200);
    const wang = await first.user('王磊', 'sales', '华东一部');
    const reviewer = await first.user('陈主管', 'reviewer', '华东一部');
    const submitted = await first
      .api(wang)
      .post<{ results: RowResult[] }>('/api/registrations', { rows: [enterpriseRow(1)] });
    const no = submitted.body.results[0]!.registrationNo!;
    first.setNow(at('2026-03-02', '10:00'));
    const approved = await first
      .api(reviewer)
      .post<RecordView>(`/api/registrations/${no}/review`, { decision: 'approve', reason: '资料齐全' });
    expect(approved.body.status).toBe('protected');
    return { env, dataDir, key, wang, no };
  } finally {
    await first.close();
  }
}

function restart(setup: Setup, env: Record<string, string> = {}): Promise<TestService> {
  return startTestService({
    now: at('2026-03-09', '09:00'),
    dataDir: setup.dataDir,
    keepData: true,
    key: setup.key,
    env: { ...setup.env, ...env },
  });
}

for (const adapter of ['lowdb', 'postgres'] as const) {
  describe(`on ${adapter}`, () => {
    const schemaOf = () => (adapter === 'postgres' ? `start_${randomBytes(6).toString('hex')}` : undefined);

    it('[R31][R44] after downtime the first answer already shows the lapse written, and a backdated visit is refused', async () => {
      const setup = await lapsedWhileDown(schemaOf());
      const svc = await restart(setup);
      cleanups.push(() => svc.close());
      const read = await svc.api(setup.wang).get<RecordView>(`/api/registrations/${setup.no}`);
      expect(read.body).toMatchObject({ status: 'void', reasonCode: 'followUp.lapsed' });
      expect(read.body.history.at(-1)).toMatchObject({
        action: 'follow_up.lapsed',
        details: { rule: 'R31', deadline: '2026-03-05' },
      });
      const late = await svc.api(setup.wang).post<ErrorBody>(`/api/registrations/${setup.no}/follow-ups`, {
        way: '上门',
        note: '补记',
        at: at('2026-03-05', '16:00'),
      });
      expect(late.status).toBe(409);
    });

    if (adapter === 'postgres') {
      it('[R31][R44] while the first sweep waits, the port answers 503 service.starting, never the record as protected', async () => {
        const schema = schemaOf()!;
        const setup = await lapsedWhileDown(schema);
        // Hold the lapsing record's row: the first sweep, which writes it void, waits on it.
        const holder = new pg.Client({ connectionString: DATABASE_URL });
        await holder.connect();
        await holder.query('BEGIN');
        await holder.query(`SELECT no FROM "${schema}".records WHERE no = $1 FOR UPDATE`, [setup.no]);
        const port = await freePort();
        const starting = restart(setup, { PORT: String(port) });
        cleanups.push(async () => (await starting).close());
        // Runs first (cleanups run in reverse): a failed expectation must not leave the sweep waiting.
        cleanups.push(() => holder.end());
        const api = apiClient(`http://127.0.0.1:${port}`, setup.wang);
        // Until the sweep has written the lapse, no answer may show the record as protected.
        const answers: number[] = [];
        for (let i = 0; i < 20; i++) {
          const res = await api
            .get<RecordView | ErrorBody>(`/api/registrations/${setup.no}`)
            .catch(() => undefined);
          if (res !== undefined) {
            answers.push(res.status);
            expect(res.status, JSON.stringify(res.body)).toBe(503);
            expect((res.body as ErrorBody).error.code).toBe('service.starting');
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(answers.length).toBeGreaterThan(0);
        await holder.query('ROLLBACK');
        const svc = await starting;
        expect(
          (await svc.api(setup.wang).get<RecordView>(`/api/registrations/${setup.no}`)).body,
        ).toMatchObject({
          status: 'void',
        });
      });

      it('[R31][R44] a first sweep that waits longer than BAOBEI_START_SWEEP_SECONDS does not keep the service from answering; a backdated visit is still refused', async () => {
        const schema = schemaOf()!;
        const setup = await lapsedWhileDown(schema);
        const holder = new pg.Client({ connectionString: DATABASE_URL });
        await holder.connect();
        cleanups.push(() => holder.end());
        await holder.query('BEGIN');
        await holder.query(`SELECT no FROM "${schema}".records WHERE no = $1 FOR UPDATE`, [setup.no]);
        const svc = await restart(setup, { BAOBEI_START_SWEEP_SECONDS: '1' });
        cleanups.push(() => svc.close());
        expect(svc.logText()).toContain('sweep.start_slow');
        expect((await svc.api(svc.adminToken).get('/api/health')).status).toBe(200);
        // The visit's write waits for the sweep's (both hold the whole store); once the sweep has
        // written the lapse, the visit is refused.
        const late = svc.api(setup.wang).post<ErrorBody>(`/api/registrations/${setup.no}/follow-ups`, {
          way: '上门',
          note: '补记',
          at: at('2026-03-05', '16:00'),
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        await holder.query('ROLLBACK');
        expect((await late).status).toBe(409);
        expect(
          (await svc.api(setup.wang).get<RecordView>(`/api/registrations/${setup.no}`)).body,
        ).toMatchObject({
          status: 'void',
        });
      });
    }
  });
}

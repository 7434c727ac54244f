/**
 * Email deliveries longer than the lease (a slow mail server, a full batch): another instance takes
 * over leased entries once the lease has run out, so the first instance must not go on sending
 * them. Two PostgreSQL stores on one schema stand for two instances; the email channel takes
 * 100 ms a message, the lease is 400 ms, and each entry must reach the mail server once.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import type { Channel, EmailMessage } from '../../server/notify/channel.js';
import { recordFactsOf, type NotifyEvent } from '../../server/notify/notifyEvent.js';
import { CONTACTS_COLLECTION, PREFERENCES_COLLECTION } from '../../server/notify/notifySettings.js';
import { OUTBOX_COLLECTION, enqueueEvents, type OutboxEntry } from '../../server/notify/outbox.js';
import { OutboxWorker } from '../../server/notify/outboxWorker.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import { storedRecord } from '../notify/notifyFixtures.js';

const DATABASE_URL = process.env.BAOBEI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
const schema = `outbox_lease_${randomBytes(6).toString('hex')}`;
afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

it(
  'an instance stops sending entries whose lease ran out: every email goes out once',
  { timeout: 60_000 },
  async () => {
    const keyring = keyringFromMasterKey(randomBytes(32));
    const a = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
    const b = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
    try {
      const now = new Date().toISOString();
      await a.write(async (tx) => {
        await tx.putUser({
          id: 'u-wang',
          name: '王磊',
          role: 'sales',
          team: '华东一部',
          tokenHash: 'th-u-wang',
          createdAt: '2026-01-01T00:00:00.000Z',
        });
        await tx.putDoc(CONTACTS_COLLECTION, 'u-wang', { email: 'u-wang@example.com', language: 'zh-CN' });
        await tx.putDoc(PREFERENCES_COLLECTION, 'u-wang', {
          email: { 'protection.ending': 'immediate' },
          robot: {},
        });
      });
      const items = Array.from({ length: 10 }, (_, i) => {
        const no = `BB-2026-${String(i + 1).padStart(6, '0')}`;
        const event: NotifyEvent = {
          type: 'protection.ending',
          recordNo: no,
          at: now,
          details: {
            daysLeft: 20,
            protectedUntil: '2026-12-13',
            extensionLastDay: '2026-11-23',
            threshold: 20,
          },
        };
        return {
          event,
          facts: recordFactsOf(storedRecord({ no }, { registrant: '王磊' })),
          to: { name: '王磊' },
          eventKey: `r:${no}`,
          robotKey: `r:${no}`,
        };
      });
      await a.write((tx) => enqueueEvents(tx, items, { now, digestHour: 9 }));

      const sent: EmailMessage[] = [];
      const slowEmail: Channel<EmailMessage> = {
        async send(message) {
          await new Promise((r) => setTimeout(r, 100));
          sent.push(message);
          return { ok: true };
        },
        async close() {},
      };
      const worker = (store: PostgresStore) =>
        new OutboxWorker({ store, clock: () => new Date(), email: slowEmail, leaseMs: 400, retryBaseMs: 10 });
      const first = worker(a).runOnce();
      // Past the lease, while the first instance is still sending: the second takes over what is left.
      await new Promise((r) => setTimeout(r, 500));
      await Promise.all([first, worker(b).runOnce()]);
      // Whatever is left over is sent by later rounds.
      for (let round = 0; round < 20; round++) {
        const done = (await a.read((tx) => tx.listDocs(OUTBOX_COLLECTION))).every(
          (d) => (d.value as OutboxEntry).status === 'sent',
        );
        if (done) break;
        await new Promise((r) => setTimeout(r, 250));
        await Promise.all([worker(a).runOnce(), worker(b).runOnce()]);
      }
      const entries = (await a.read((tx) => tx.listDocs(OUTBOX_COLLECTION))).map(
        (d) => d.value as OutboxEntry,
      );
      expect(entries.map((e) => e.status)).toEqual(entries.map(() => 'sent'));
      expect(sent).toHaveLength(10);
    } finally {
      await a.close();
      await b.close();
    }
  },
);

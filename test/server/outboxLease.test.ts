/**
 * Deliveries longer than the lease (a slow mail server, a full batch, a slow robot webhook): another
 * instance takes over leased entries (or a held robot) once the lease has run out, so the first
 * instance must not go on sending them, and must keep the lease of a message it is still sending.
 * Two PostgreSQL stores on one schema stand for two instances.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, expect, it } from 'vitest';
import type { Channel, EmailMessage } from '../../server/notify/channel.js';
import { teamRobotSchema } from '../../server/notify/channelSettings.js';
import { createEmailChannel } from '../../server/notify/emailChannel.js';
import { recordFactsOf, type NotifyEvent } from '../../server/notify/notifyEvent.js';
import {
  CONTACTS_COLLECTION,
  PREFERENCES_COLLECTION,
  ROBOTS_COLLECTION,
} from '../../server/notify/notifySettings.js';
import { OUTBOX_COLLECTION, enqueueEvents, type OutboxEntry } from '../../server/notify/outbox.js';
import { OutboxWorker } from '../../server/notify/outboxWorker.js';
import { keyringFromMasterKey, type Keyring } from '../../server/security/keyring.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import { startRobotReceivers } from '../fakes/robotReceivers.js';
import { storedRecord } from '../notify/notifyFixtures.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas) await dropSchema(DATABASE_URL, schema);
});

/** Two instances' stores on a fresh schema. */
async function twoInstances(): Promise<{ a: PostgresStore; b: PostgresStore; keyring: Keyring }> {
  const schema = `outbox_lease_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  const keyring = keyringFromMasterKey(randomBytes(32));
  const a = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
  const b = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
  return { a, b, keyring };
}

/** `count` immediate protection.ending emails to 王磊, due now. */
async function enqueueEmails(store: PostgresStore, count: number): Promise<void> {
  const now = new Date().toISOString();
  await store.write(async (tx) => {
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
  const items = Array.from({ length: count }, (_, i) => {
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
  await store.write((tx) => enqueueEvents(tx, items, { now, digestHour: 9 }));
}

async function outboxEntries(store: PostgresStore): Promise<OutboxEntry[]> {
  return (await store.read((tx) => tx.listDocs(OUTBOX_COLLECTION))).map((d) => d.value as OutboxEntry);
}

it(
  'an instance stops sending entries whose lease ran out: every email goes out once',
  { timeout: 60_000 },
  async () => {
    const { a, b } = await twoInstances();
    try {
      await enqueueEmails(a, 10);

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
      const entries = await outboxEntries(a);
      expect(entries.map((e) => e.status)).toEqual(entries.map(() => 'sent'));
      expect(sent).toHaveLength(10);
    } finally {
      await a.close();
      await b.close();
    }
  },
);

/** A real SMTP server that answers each message's DATA only after `delayMs`; counts what it accepted. */
async function startSlowSmtp(
  delayMs: number,
): Promise<{ port: number; accepted: string[]; close(): Promise<void> }> {
  const accepted: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      stream.on('end', () => {
        setTimeout(() => {
          accepted.push(/^Message-ID: *(\S+)/im.exec(text)?.[1] ?? '?');
          cb();
        }, delayMs);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, accepted, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

it(
  'one email whose send outlasts the lease is sent once: its instance keeps the lease while sending',
  { timeout: 60_000 },
  async () => {
    const { a, b } = await twoInstances();
    // The mail server takes 1.5 s to accept a message; the lease is 0.6 s.
    const smtp = await startSlowSmtp(1_500);
    const channel = () =>
      createEmailChannel({
        host: '127.0.0.1',
        port: smtp.port,
        secure: false,
        requireTLS: false,
        from: { address: 'baobei@example.com' },
        tls: { rejectUnauthorized: true },
        maxConnections: 1,
      });
    const emailA = channel();
    const emailB = channel();
    try {
      await enqueueEmails(a, 1);
      const worker = (store: PostgresStore, email: Channel<EmailMessage>) =>
        new OutboxWorker({ store, clock: () => new Date(), email, leaseMs: 600, retryBaseMs: 10 });
      const first = worker(a, emailA).runOnce();
      // The other instance looks twice past the first lease's end, while the message is on the wire.
      const second: Promise<unknown>[] = [];
      for (const wait of [800, 500]) {
        await new Promise((r) => setTimeout(r, wait));
        second.push(worker(b, emailB).runOnce());
      }
      const [round] = await Promise.all([first, ...second]);
      // Once on the wire, by the instance that claimed it, which records it sent.
      expect(smtp.accepted).toHaveLength(1);
      expect(round).toMatchObject({ sent: 1 });
      expect((await outboxEntries(a)).map((e) => e.status)).toEqual(['sent']);
    } finally {
      await emailA.close();
      await emailB.close();
      await smtp.close();
      await a.close();
      await b.close();
    }
  },
);

it(
  'one robot message whose webhook call outlasts the lease is sent once: its lane keeps the robot',
  { timeout: 60_000 },
  async () => {
    const { a, b } = await twoInstances();
    const receivers = await startRobotReceivers();
    const wecom = receivers.wecom();
    const worker = (store: PostgresStore) =>
      new OutboxWorker({ store, clock: () => new Date(), leaseMs: 600, retryBaseMs: 10 });
    const first = worker(a);
    const other = worker(b);
    try {
      const robot = teamRobotSchema.parse({
        kind: 'wecom',
        id: 'wecom-east',
        team: '华东一部',
        name: '华东一部群',
        webhookUrl: wecom.webhookUrl,
      });
      await a.write((tx) => tx.putDoc(ROBOTS_COLLECTION, robot.id, robot));
      const no = 'BB-2026-000001';
      const event: NotifyEvent = {
        type: 'protection.ending',
        recordNo: no,
        at: new Date().toISOString(),
        details: { daysLeft: 20, protectedUntil: '2026-12-13', extensionLastDay: '2026-11-23' },
      };
      await a.write((tx) =>
        enqueueEvents(
          tx,
          [
            {
              event,
              facts: recordFactsOf(storedRecord({ no })),
              to: { name: '没有这个人' },
              eventKey: `r:${no}`,
              robotKey: `r:${no}`,
            },
          ],
          { now: event.at, digestHour: 9 },
        ),
      );
      // The webhook answers 1.5 s late (its timeout is 10 s); the lease is 0.6 s.
      wecom.delayNext(1, 1_500);
      const round = first.runOnce();
      // The other instance looks twice past the first lease's end, while the request is on the wire.
      const second: Promise<unknown>[] = [];
      for (const wait of [800, 500]) {
        await new Promise((r) => setTimeout(r, wait));
        second.push(other.runOnce());
      }
      const [result] = await Promise.all([round, ...second]);
      // Delivered once, by the instance that took the robot, which records it sent.
      expect([...receivers.deliveredKeys().values()]).toEqual([1]);
      expect(result).toMatchObject({ robots: 1, sent: 1 });
      expect((await outboxEntries(a)).map((e) => e.status)).toEqual(['sent']);
    } finally {
      await first.stop();
      await other.stop();
      await receivers.close();
      await a.close();
      await b.close();
    }
  },
);

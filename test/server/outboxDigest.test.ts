/**
 * Daily digests by email (issue 10): a person who chose "daily digest" gets ONE message at the
 * digest hour carrying everything of theirs that came due, however many entries of other people
 * are due at that hour too (the worker claims in batches), and the message reads as a daily
 * summary — not as the robots' burst summary.
 *
 * A real LowdbStore in a temp dir (and the batch case on PostgreSQL too, where the claim takes
 * the rest of a digest with SKIP LOCKED); the email channel records what it is asked to send.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Channel, EmailMessage } from '../../server/notify/channel.js';
import { renderEmail } from '../../server/notify/emailChannel.js';
import { recordFactsOf, type NotifyEvent } from '../../server/notify/notifyEvent.js';
import { CONTACTS_COLLECTION, PREFERENCES_COLLECTION } from '../../server/notify/notifySettings.js';
import { OUTBOX_COLLECTION, enqueueEvents, type OutboxEntry } from '../../server/notify/outbox.js';
import { OutboxWorker } from '../../server/notify/outboxWorker.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import type { Store } from '../../server/store/store.js';
import { storedRecord } from '../notify/notifyFixtures.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';

let store: Store;
let dataDir: string | undefined;
let schema: string | undefined;
let sent: EmailMessage[];

const email: Channel<EmailMessage> = {
  async send(message) {
    sent.push(message);
    return { ok: true };
  },
  async close() {},
};

async function openStore(kind: 'lowdb' | 'postgres'): Promise<void> {
  const keyring = keyringFromMasterKey(randomBytes(32));
  if (kind === 'lowdb') {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-digest-'));
    store = await LowdbStore.open({ dataDir, keyring });
  } else {
    schema = uniqueSchema('baobei_test');
    store = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
  }
}

beforeEach(() => {
  sent = [];
});

afterEach(async () => {
  await store?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (schema) await dropSchema(DATABASE_URL, schema);
  dataDir = undefined;
  schema = undefined;
});

const PEOPLE = [
  { id: 'u-wang', name: '王磊', language: 'zh-CN' },
  { id: 'u-li', name: '李娜', language: 'en' },
] as const;

async function addPeople(): Promise<void> {
  await store.write(async (tx) => {
    for (const p of PEOPLE) {
      await tx.putUser({
        id: p.id,
        name: p.name,
        role: 'sales',
        team: '华东一部',
        tokenHash: `th-${p.id}`,
        createdAt: '2026-01-01T00:00:00.000Z',
      });
      await tx.putDoc(CONTACTS_COLLECTION, p.id, { email: `${p.id}@example.com`, language: p.language });
      await tx.putDoc(PREFERENCES_COLLECTION, p.id, {
        email: { 'protection.ending': 'digest' },
        robot: {},
      });
    }
  });
}

/** `perPerson` T−20 reminders for each person, enqueued at 08:00 Shanghai (digest due at 09:00). */
async function enqueueReminders(perPerson: number): Promise<string[]> {
  const at = '2026-11-23T00:00:00.000Z';
  const nos: string[] = [];
  const items = PEOPLE.flatMap((p, pi) =>
    Array.from({ length: perPerson }, (_, i) => {
      const no = `BB-2026-${String(pi * 100 + i + 1).padStart(6, '0')}`;
      nos.push(no);
      const event: NotifyEvent = {
        type: 'protection.ending',
        recordNo: no,
        at,
        details: {
          daysLeft: 20,
          protectedUntil: '2026-12-13',
          extensionLastDay: '2026-11-23',
          threshold: 20,
        },
      };
      return {
        event,
        facts: recordFactsOf(storedRecord({ no }, { registrant: p.name })),
        to: { name: p.name },
        eventKey: `r:${no}`,
        robotKey: `r:${no}`,
      };
    }),
  );
  await store.write((tx) => enqueueEvents(tx, items, { now: at, digestHour: 9 }));
  return nos;
}

async function drain(worker: OutboxWorker): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const r = await worker.runOnce();
    if (r.claimed === 0) return;
  }
  throw new Error('the outbox never drained');
}

describe.each(['lowdb', 'postgres'] as const)('%s', (kind) => {
  it('one digest per person at the digest hour, whatever the claim batch size', async () => {
    await openStore(kind);
    await addPeople();
    const nos = await enqueueReminders(5);
    const worker = new OutboxWorker({
      store,
      // 09:00:01 Shanghai: the digests are due.
      clock: () => new Date('2026-11-23T01:00:01.000Z'),
      email,
      batchSize: 3,
    });
    await drain(worker);
    const entries = (await store.read((tx) => tx.listDocs(OUTBOX_COLLECTION))).map(
      (d) => d.value as OutboxEntry,
    );
    expect(entries.map((e) => e.status)).toEqual(entries.map(() => 'sent'));
    expect(sent.map((m) => m.to.address).sort()).toEqual(['u-li@example.com', 'u-wang@example.com']);
    for (const [i, p] of PEOPLE.entries()) {
      const message = sent.find((m) => m.to.address === `${p.id}@example.com`)!;
      const text = renderEmail(message.document).text;
      for (const no of nos.slice(i * 5, i * 5 + 5)) expect(text).toContain(no);
    }
  });
});

it('a digest reads as a daily summary, not as a burst a group robot could not take', async () => {
  await openStore('lowdb');
  await addPeople();
  await enqueueReminders(2);
  const worker = new OutboxWorker({ store, clock: () => new Date('2026-11-23T01:00:01.000Z'), email });
  await drain(worker);
  expect(sent).toHaveLength(2);
  for (const message of sent) {
    const { subject, text } = renderEmail(message.document);
    expect(`${subject}\n${text}`).not.toMatch(/机器人|robot|短时间|at once/i);
  }
  const zh = renderEmail(sent.find((m) => m.to.address === 'u-wang@example.com')!.document);
  expect(zh.text).toContain('每日汇总');
  const en = renderEmail(sent.find((m) => m.to.address === 'u-li@example.com')!.document);
  expect(en.text).toContain('Daily summary');
});

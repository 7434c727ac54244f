/**
 * Daily digests by email (issue 10): the message reads as a daily summary — not as the robots'
 * burst summary.
 *
 * A real LowdbStore in a temp dir; the email channel records what it is asked to send.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Channel, EmailMessage } from '../../server/notify/channel.js';
import { renderEmail } from '../../server/notify/emailChannel.js';
import { recordFactsOf, type NotifyEvent } from '../../server/notify/notifyEvent.js';
import { CONTACTS_COLLECTION, PREFERENCES_COLLECTION } from '../../server/notify/notifySettings.js';
import { enqueueEvents } from '../../server/notify/outbox.js';
import { OutboxWorker } from '../../server/notify/outboxWorker.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { storedRecord } from '../notify/notifyFixtures.js';

let store: LowdbStore;
let dataDir: string;
let sent: EmailMessage[];

const email: Channel<EmailMessage> = {
  async send(message) {
    sent.push(message);
    return { ok: true };
  },
  async close() {},
};

beforeEach(async () => {
  sent = [];
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-digest-'));
  store = await LowdbStore.open({ dataDir, keyring: keyringFromMasterKey(randomBytes(32)) });
});

afterEach(async () => {
  await store?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
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

it('a digest reads as a daily summary, not as a burst a group robot could not take', async () => {
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

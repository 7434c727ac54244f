/**
 * Stored records for the embedded store's benches: 2,000 records the real row evaluation produced
 * (templates), and copies of them with their own number and identity keys, so the key index and
 * the files have real sizes without running the evaluation a million times.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_POLICY } from '../core/policy.js';
import type { IdentityKeys, Registration, StoredRecord, SubmissionRow } from '../core/schema.js';
import type { Keyring } from '../server/security/keyring.js';
import { evaluateRow } from '../server/services/rowEvaluation.js';
import { LowdbStore } from '../server/store/lowdbStore.js';
import { generateRegistrations } from './generate.js';

function asRow(reg: Registration, i: number): SubmissionRow {
  const row: SubmissionRow = { clientRowId: i, source: '展会', region: '上海' };
  for (const [k, v] of Object.entries(reg)) (row as Record<string, unknown>)[k] = v;
  return row;
}

/** Records the real evaluation of generated rows produced (an empty store, so all are new). */
export async function evaluatedTemplates(keyring: Keyring, count: number): Promise<StoredRecord[]> {
  const now = new Date('2026-11-23T02:00:00.000Z');
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'baobei-lowdb-bench-tpl-'));
  const store = await LowdbStore.open({ dataDir: tmp, keyring });
  const templates: StoredRecord[] = [];
  try {
    await store.simulate(async (tx) => {
      for (const [i, g] of generateRegistrations(count, 11).rows.entries()) {
        const e = await evaluateRow(asRow(g.registration, i), {
          tx,
          actor: { id: 'bench', name: 'admin', role: 'admin' },
          policy: DEFAULT_POLICY,
          now,
          keyring,
        });
        if (e.record) templates.push(e.record);
      }
    });
  } finally {
    await store.close();
    await rm(tmp, { recursive: true, force: true });
  }
  return templates;
}

/** A copy of a template with its own number and identity: distinct index keys of the same length. */
export function copyOf(template: StoredRecord, n: number): StoredRecord {
  const tag = `~${n.toString(36)}`;
  const id: IdentityKeys = template.identity;
  return {
    ...template,
    no: `BB-2026-${String(n).padStart(7, '0')}`,
    identity: {
      ...id,
      name: id.name + tag,
      creditCode: id.creditCode === null ? null : id.creditCode + tag,
      phone: id.phone === null ? null : id.phone + tag,
      maskedPhone: id.maskedPhone === null ? null : id.maskedPhone + tag,
      nameBlocks: id.nameBlocks.map((b) => b + tag),
    },
  };
}

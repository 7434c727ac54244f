/**
 * A new row's candidates are read from the clear fields kept beside each sealed record; only the
 * registrant's own exact matches are opened (issue 12, per-row cost). What a row answers must be
 * what the opened records give: the conflicts shown (R3, R15, R21, R34) and a duplicate's dates.
 * Real service, on a real lowdb store on disk and on a real PostgreSQL store in its own schema.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { effectiveStatus } from '../../core/lifecycle.js';
import { DEFAULT_POLICY } from '../../core/policy.js';
import type { MatchedOn, MatchStrength, RowResult, StoredRecord, SubmissionRow } from '../../core/schema.js';
import { keyringFromMasterKey, type Keyring } from '../../server/security/keyring.js';
import type { Actor } from '../../server/services/actor.js';
import { RegistrationService } from '../../server/services/registrationService.js';
import { conflictView, datesOf } from '../../server/services/rowEvaluation.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import type { Store } from '../../server/store/store.js';
import { enterpriseRow } from '../support/customers.js';
import { dropSchema, TEST_DATABASE_URL as DATABASE_URL, uniqueSchema } from '../support/postgresSchema.js';

const schema = uniqueSchema('rowcand');
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await dropSchema(DATABASE_URL, schema);
});

/** Monday 2026-11-23, 10:00 in Shanghai. */
const MONDAY = '2026-11-23T02:00:00.000Z';
const TODAY = '2026-11-23';
const WANG: Actor = { id: 'u-wang', name: '王磊', role: 'sales', team: '华东一部' };
const LI: Actor = { id: 'u-li', name: '李娜', role: 'sales', team: '华东二部' };
const ZHAO: Actor = { id: 'u-zhao', name: '赵强', role: 'sales' };
const ADMIN: Actor = { id: 'u-admin', name: '管理员', role: 'admin' };

async function openStore(adapter: 'lowdb' | 'postgres', keyring: Keyring): Promise<Store> {
  if (adapter === 'postgres') {
    const store = await PostgresStore.open({ connectionString: DATABASE_URL, keyring, schema });
    cleanups.push(() => store.close());
    return store;
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-rowcand-'));
  const store = await LowdbStore.open({ dataDir, keyring, purpose: 'test' });
  cleanups.push(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return store;
}

function numbered(...list: SubmissionRow[]): SubmissionRow[] {
  return list.map((row, i) => ({ ...row, clientRowId: i + 1 }));
}

/** The conflict a row shows of `record`, worked out from the opened record. */
function shown(record: StoredRecord, matchedOn: MatchedOn, strength: MatchStrength): unknown {
  return conflictView({ record, status: effectiveStatus(record, TODAY), match: { matchedOn, strength } });
}

/** A row's dates, as datesOf gives them. */
function datesIn(result: RowResult | undefined): unknown {
  const { protectedFrom, protectedUntil, reviewDueBy, estimated } = result ?? {};
  return JSON.parse(JSON.stringify({ protectedFrom, protectedUntil, reviewDueBy, estimated })) as unknown;
}

describe.each(['lowdb', 'postgres'] as const)('a row’s candidates on %s', (adapter) => {
  it('[R3][R15][R21][R34] answer as the opened records give: the conflicts shown and a duplicate’s dates', async () => {
    const keyring = keyringFromMasterKey(randomBytes(32));
    const store = await openStore(adapter, keyring);
    expect(store.kind).toBe(adapter);
    await store.write(async (tx) => {
      for (const actor of [WANG, LI, ZHAO]) {
        await tx.putUser({
          id: actor.id,
          name: actor.name,
          role: 'sales',
          ...(actor.team !== undefined ? { team: actor.team } : {}),
          tokenHash: `token-${actor.id}`,
          createdAt: MONDAY,
        });
      }
    });
    const service = new RegistrationService({ store, keyring, clock: () => new Date(MONDAY) });
    const read = (no: string | undefined): Promise<StoredRecord> =>
      store.read(async (tx) => {
        const record = no === undefined ? undefined : await tx.getRecord(no);
        if (record === undefined) throw new Error(`no record ${no}`);
        return record;
      });

    // A pending record (wang, with a team), a protected one (autoApprove), one of a registrant without a team.
    const [pending] = (await service.submit(WANG, numbered(enterpriseRow(1)))).results;
    await store.write((tx) => tx.putPolicy({ ...DEFAULT_POLICY, autoApprove: true }));
    const [protectedRow] = (await service.submit(WANG, numbered(enterpriseRow(2)))).results;
    const [noTeam] = (await service.submit(ZHAO, numbered(enterpriseRow(3)))).results;
    expect([pending?.status, protectedRow?.status, noTeam?.status]).toEqual([
      'pending',
      'protected',
      'protected',
    ]);
    const records = [
      await read(pending?.registrationNo),
      await read(protectedRow?.registrationNo),
      await read(noTeam?.registrationNo),
    ] as const;

    // Another registrant: a possible match (same phone, another company), and conflicts with each.
    const possible = await service.check(
      LI,
      numbered({ ...enterpriseRow(9), contactPhone: enterpriseRow(1).contactPhone }),
    );
    expect(possible.map((r) => [r.status, r.conflicts])).toEqual([
      ['pending', [shown(records[0], 'phone', 'possible')]],
    ]);
    const others = numbered(enterpriseRow(1), enterpriseRow(2), enterpriseRow(3));
    const checked = await service.check(LI, others);
    expect(checked.map((r) => r.conflicts)).toEqual([
      [shown(records[0], 'creditCode', 'exact')],
      [shown(records[1], 'creditCode', 'exact')],
      [shown(records[2], 'creditCode', 'exact')],
    ]);
    expect(checked.map((r) => r.status)).toEqual(['conflict', 'conflict', 'conflict']);
    const submitted = (await service.submit(LI, others)).results;
    expect(submitted.map((r) => [r.status, r.conflicts])).toEqual(
      checked.map((r) => [r.status, r.conflicts]),
    );

    // The registrant's own records: duplicates answering with the record's dates.
    const again = numbered(enterpriseRow(1), enterpriseRow(2));
    for (const results of [await service.check(WANG, again), (await service.submit(WANG, again)).results]) {
      expect(results.map((r) => [r.status, r.registrationNo])).toEqual([
        ['duplicate', records[0].no],
        ['duplicate', records[1].no],
      ]);
      expect(results.map(datesIn)).toEqual([datesOf(records[0]), datesOf(records[1])]);
    }

    // Rows of one batch meet each other's staged records: a conflict, then the first row's duplicate.
    const batch = numbered(
      { ...enterpriseRow(5), registrant: '王磊' },
      { ...enterpriseRow(5), registrant: '李娜' },
      { ...enterpriseRow(5), registrant: '王磊' },
    );
    const staged = (await service.submit(ADMIN, batch)).results;
    const first = await read(staged[0]?.registrationNo);
    expect(staged.map((r) => r.status)).toEqual(['protected', 'conflict', 'duplicate']);
    expect(staged[1]?.conflicts).toEqual([shown(first, 'creditCode', 'exact')]);
    expect(staged[2]?.registrationNo).toBe(first.no);
    expect(datesIn(staged[2])).toEqual(datesOf(first));
  });
});

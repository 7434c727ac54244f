/**
 * Concurrency and crash safety (issue 3, Storage): one customer is never granted twice under
 * concurrent registrations, and every acknowledged registration survives a SIGKILL exactly once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RowResult, SubmissionRow } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import { spawnService, type ChildService } from '../support/childService.js';
import { expectOneWinner, raceRow } from '../support/claimRace.js';
import { companyNameFor, enterpriseRow } from '../support/customers.js';
import { apiClient, startTestService, type TestService } from '../support/testService.js';

interface Results {
  results: RowResult[];
}
interface List {
  items: RecordView[];
  total: number;
}

describe('40 registrants, one customer, at once', () => {
  let svc: TestService | undefined;
  afterEach(async () => {
    await svc?.close();
  });

  it('[R17][R21] exactly one registration is pending; the other 39 are saved as conflicts behind it', async () => {
    svc = await startTestService();
    const s = svc;
    const tokens = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        s.user(`销售${String(i + 1).padStart(2, '0')}`, 'sales', '华东一部'),
      ),
    );
    const results = await Promise.all(
      tokens.map(async (token, i) => {
        const res = await s.api(token).post<Results>('/api/registrations', { rows: [raceRow(i)] });
        expect(res.status).toBe(200);
        return res.body.results[0]!;
      }),
    );
    const winner = expectOneWinner(results, /^BB-2026-\d{6}$/);
    // 40 records, 40 distinct numbers, one of them pending.
    const list = await s.api(s.adminToken).get<List>('/api/registrations?limit=100');
    expect(list.body.total).toBe(40);
    expect(new Set(list.body.items.map((r) => r.no)).size).toBe(40);
    expect(list.body.items.filter((r) => r.status === 'pending').map((r) => r.no)).toEqual([winner]);

    // And the reviewer cannot grant it twice: approving the winner rejects the other 39.
    const reviewer = await s.user('张敏', 'reviewer', '华东一部');
    expect(
      (
        await s
          .api(reviewer)
          .post(`/api/registrations/${winner}/review`, { decision: 'approve', reason: 'ok' })
      ).status,
    ).toBe(200);
    const after = await s.api(s.adminToken).get<List>('/api/registrations?limit=100');
    expect(after.body.items.filter((r) => r.status === 'protected').map((r) => r.no)).toEqual([winner]);
    expect(after.body.items.filter((r) => r.status === 'rejected')).toHaveLength(39);
  });
});

describe('crash safety', () => {
  const children: ChildService[] = [];
  let dataDir: string | undefined;

  afterEach(async () => {
    for (const child of children.splice(0)) await child.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'after SIGKILL mid-stream and a restart, every acknowledged registration is there exactly once',
    { timeout: 120_000 },
    async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-crash-'));
      const key = randomBytes(32).toString('hex');
      const first = await spawnService({ dataDir, key });
      children.push(first);
      const adminToken = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
      const admin = apiClient(first.url, adminToken);
      const clients: string[] = [];
      for (let c = 0; c < 4; c++) {
        const res = await admin.post<{ token: string }>('/api/users', {
          name: `客户端${c}`,
          role: 'sales',
          team: '华东一部',
        });
        expect(res.status).toBe(201);
        clients.push(res.body.token);
      }

      interface Sent {
        client: number;
        key: string;
        body: { rows: SubmissionRow[] };
        names: string[];
        acked?: RowResult[];
      }
      const sent: Sent[] = [];
      const KILL_AFTER = 60;
      let acked = 0;
      let killed = false;
      // 4 clients × 3 lanes; each lane sends two-row batches one after another until the service dies.
      const lane = async (client: number, laneNo: number) => {
        const api = apiClient(first.url, clients[client]!);
        for (let i = 0; ; i++) {
          const base = (client * 10 + laneNo) * 1000 + i * 2;
          const rows = [enterpriseRow(base), enterpriseRow(base + 1)];
          const entry: Sent = {
            client,
            key: `c${client}-l${laneNo}-${i}`,
            body: { rows },
            names: [companyNameFor(base), companyNameFor(base + 1)],
          };
          sent.push(entry);
          try {
            const res = await api.post<Results>('/api/registrations', entry.body, {
              'Idempotency-Key': entry.key,
            });
            expect(res.status).toBe(200);
            entry.acked = res.body.results;
            acked++;
            if (acked === KILL_AFTER && !killed) {
              killed = true;
              first.kill('SIGKILL').catch(() => undefined);
            }
          } catch (err) {
            if (!killed) throw err;
            return; // the service is gone: this request is unacknowledged
          }
        }
      };
      await Promise.all([0, 1, 2, 3].flatMap((c) => [0, 1, 2].map((l) => lane(c, l))));
      const exit = await first.exited;
      expect(exit.signal).toBe('SIGKILL');

      const ack = sent.filter((s) => s.acked !== undefined);
      const unacked = sent.filter((s) => s.acked === undefined);
      expect(ack.length).toBeGreaterThanOrEqual(KILL_AFTER);
      expect(unacked.length).toBeGreaterThanOrEqual(12); // each lane's last request went unanswered

      const second = await spawnService({ dataDir, key });
      children.push(second);
      const admin2 = apiClient(second.url, adminToken);

      // Every acknowledged row is there, under its number, as acknowledged.
      for (const s of ack) {
        const api = apiClient(second.url, clients[s.client]!);
        for (const [i, result] of s.acked!.entries()) {
          expect(result.status).toBe('pending');
          const res = await api.get<RecordView>(`/api/registrations/${result.registrationNo}`);
          expect(res.status, result.registrationNo).toBe(200);
          expect(res.body.registration.customerName).toBe(s.names[i]);
        }
      }
      const listed = await admin2.get<List>('/api/registrations?limit=1000');
      const names = listed.body.items.map((r) => r.registration.customerName);
      expect(listed.body.total).toBe(listed.body.items.length);
      expect(new Set(listed.body.items.map((r) => r.no)).size).toBe(listed.body.total);
      expect(new Set(names).size).toBe(names.length); // no customer saved twice
      for (const s of ack) for (const n of s.names) expect(names).toContain(n);
      // Nothing but what was sent, and an unacknowledged batch is all-or-nothing.
      const sentNames = new Set(sent.flatMap((s) => s.names));
      for (const n of names) expect(sentNames.has(n), n).toBe(true);
      for (const s of unacked) expect([0, 2]).toContain(s.names.filter((n) => names.includes(n)).length);

      // Re-sending an acknowledged request replays it; it never registers twice.
      for (const s of ack) {
        const res = await apiClient(second.url, clients[s.client]!).post<Results>(
          '/api/registrations',
          s.body,
          {
            'Idempotency-Key': s.key,
          },
        );
        expect(res.status).toBe(200);
        expect(res.headers.get('Idempotent-Replayed')).toBe('true');
        expect(res.body.results).toEqual(s.acked);
      }
      // Retrying the unacknowledged ones completes them, whether or not they were saved before the kill.
      for (const s of unacked) {
        const res = await apiClient(second.url, clients[s.client]!).post<Results>(
          '/api/registrations',
          s.body,
          {
            'Idempotency-Key': s.key,
          },
        );
        expect(res.status).toBe(200);
        expect(res.body.results.map((r) => r.status)).toEqual(['pending', 'pending']);
      }
      const final = await admin2.get<List>('/api/registrations?limit=1000');
      const finalNames = final.body.items.map((r) => r.registration.customerName);
      expect(final.body.total).toBe(sentNames.size);
      expect(new Set(finalNames)).toEqual(sentNames);
      expect(new Set(final.body.items.map((r) => r.no)).size).toBe(final.body.total);
    },
  );
});

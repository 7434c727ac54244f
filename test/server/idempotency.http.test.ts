/**
 * Idempotency-Key on POST /api/registrations (issue 3): a retry after a lost response gets the
 * first response and never registers twice; a key reused for another body is refused; a retry
 * while the first request is still running is told to wait.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RowResult } from '../../core/schema.js';
import type { RecordView } from '../../server/services/recordView.js';
import type { WriteTx } from '../../server/store/store.js';
import { ForwardingStore } from '../support/forwardingStore.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestApp, startTestService, type ErrorBody, type TestService } from '../support/testService.js';

interface Results {
  results: RowResult[];
}
interface List {
  items: RecordView[];
  total: number;
}

describe('replay and mismatch', () => {
  let svc: TestService;
  let wang: string;
  let li: string;

  beforeEach(async () => {
    svc = await startTestService();
    wang = await svc.user('王磊', 'sales', '华东一部');
    li = await svc.user('李娜', 'sales', '华东一部');
  });

  afterEach(async () => {
    await svc.close();
  });

  const total = async () => (await svc.api(svc.adminToken).get<List>('/api/registrations')).body.total;

  it('same key + same body → the first response replayed, marked Idempotent-Replayed, nothing new saved', async () => {
    const body = {
      rows: [
        { ...enterpriseRow(1), clientRowId: 'r1' },
        { customerName: '', clientRowId: 'r2' },
        enterpriseRow(2),
      ],
    };
    const first = await svc
      .api(wang)
      .post<Results>('/api/registrations', body, { 'Idempotency-Key': 'batch-0001' });
    expect(first.status).toBe(200);
    expect(first.headers.get('Idempotent-Replayed')).toBeNull();
    expect(first.body.results.map((r) => r.status)).toEqual(['pending', 'invalid', 'pending']);
    expect(await total()).toBe(2);

    // Same content, keys in another order: still the same request.
    const reordered = {
      rows: [
        { clientRowId: 'r1', ...enterpriseRow(1) },
        { clientRowId: 'r2', customerName: '' },
        enterpriseRow(2),
      ],
    };
    for (const retry of [body, reordered]) {
      const again = await svc
        .api(wang)
        .post<Results>('/api/registrations', retry, { 'Idempotency-Key': 'batch-0001' });
      expect(again.status).toBe(200);
      expect(again.headers.get('Idempotent-Replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
    }
    expect(await total()).toBe(2);
    // No number was taken by the retries: the next registration gets the third number.
    const next = await svc.api(wang).post<Results>('/api/registrations', { rows: [enterpriseRow(3)] });
    expect(next.body.results[0]?.registrationNo).toBe('BB-2026-000003');
  });

  it('replays the first response even after the record has moved on', async () => {
    const reviewer = await svc.user('张敏', 'reviewer', '华东一部');
    const body = { rows: [enterpriseRow(4)] };
    const first = await svc
      .api(wang)
      .post<Results>('/api/registrations', body, { 'Idempotency-Key': 'k-moved' });
    const no = first.body.results[0]?.registrationNo;
    await svc.api(reviewer).post(`/api/registrations/${no}/review`, { decision: 'approve', reason: 'ok' });
    const again = await svc
      .api(wang)
      .post<Results>('/api/registrations', body, { 'Idempotency-Key': 'k-moved' });
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(again.body.results[0]).toMatchObject({ registrationNo: no, status: 'pending' });
  });

  it('same key + a different body → 422 idempotency.mismatch, nothing saved', async () => {
    await svc
      .api(wang)
      .post('/api/registrations', { rows: [enterpriseRow(5)] }, { 'Idempotency-Key': 'k-1' });
    const other = await svc
      .api(wang)
      .post<ErrorBody>('/api/registrations', { rows: [enterpriseRow(6)] }, { 'Idempotency-Key': 'k-1' });
    expect(other.status).toBe(422);
    expect(other.body.error).toMatchObject({ code: 'idempotency.mismatch', field: 'Idempotency-Key' });
    expect(other.body.error.requestId).toEqual(expect.any(String));
    expect(await total()).toBe(1);
  });

  it('different users may use the same key independently', async () => {
    const a = await svc
      .api(wang)
      .post<Results>('/api/registrations', { rows: [enterpriseRow(7)] }, { 'Idempotency-Key': 'shared' });
    const b = await svc
      .api(li)
      .post<Results>('/api/registrations', { rows: [enterpriseRow(8)] }, { 'Idempotency-Key': 'shared' });
    expect(b.status).toBe(200);
    expect(b.headers.get('Idempotent-Replayed')).toBeNull();
    expect(b.body.results[0]?.registrationNo).not.toBe(a.body.results[0]?.registrationNo);
    // Even the very same body under the same key is a new request for another user.
    const c = await svc
      .api(li)
      .post<Results>('/api/registrations', { rows: [enterpriseRow(7)] }, { 'Idempotency-Key': 'k-7' });
    const d = await svc
      .api(wang)
      .post<Results>('/api/registrations', { rows: [enterpriseRow(7)] }, { 'Idempotency-Key': 'k-7' });
    expect(c.body.results[0]?.status).toBe('conflict');
    expect(d.headers.get('Idempotent-Replayed')).toBeNull();
    expect(d.body.results[0]).toMatchObject({
      status: 'duplicate',
      registrationNo: a.body.results[0]?.registrationNo,
    });
    expect(await total()).toBe(3);
  });

  it('without a key, a resend is a new request (the duplicate rule then applies)', async () => {
    const first = await svc.api(wang).post<Results>('/api/registrations', { rows: [enterpriseRow(9)] });
    const again = await svc.api(wang).post<Results>('/api/registrations', { rows: [enterpriseRow(9)] });
    expect(again.headers.get('Idempotent-Replayed')).toBeNull();
    expect(again.body.results[0]).toMatchObject({
      status: 'duplicate',
      registrationNo: first.body.results[0]?.registrationNo,
    });
  });
});

/** A store whose next write waits until the test lets it go; everything else goes straight through. */
class HeldStore extends ForwardingStore {
  private hold: { entered: () => void; released: Promise<void> } | undefined;

  /** Holds the next write; `entered` resolves once a request has reached it. */
  holdNextWrite(): { entered: Promise<void>; release: () => void } {
    let release!: () => void;
    let entered!: () => void;
    const reached = new Promise<void>((resolve) => (entered = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.hold = { entered, released };
    return { entered: reached, release };
  }

  override async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const hold = this.hold;
    if (hold) {
      this.hold = undefined;
      hold.entered();
      await hold.released;
    }
    return this.inner.write(fn);
  }
}

describe('in flight', () => {
  it('same key while the first request is still running → 409 idempotency.in_flight; afterwards it replays', async () => {
    let held: HeldStore | undefined;
    const app = await startTestApp({ wrapStore: (store) => (held = new HeldStore(store)) });
    try {
      const token = await app.user('王磊', 'sales', '华东一部');
      const api = app.api(token);
      const body = { rows: [enterpriseRow(20)] };

      const gate = held!.holdNextWrite();
      const first = api.post<Results>('/api/registrations', body, { 'Idempotency-Key': 'slow-1' });
      await gate.entered; // the first request is inside its write, not finished

      const second = await api.post<ErrorBody>('/api/registrations', body, { 'Idempotency-Key': 'slow-1' });
      expect(second.status).toBe(409);
      expect(second.body.error.code).toBe('idempotency.in_flight');

      // Another key is not held up by it.
      const other = await api.post<Results>(
        '/api/registrations',
        { rows: [enterpriseRow(21)] },
        { 'Idempotency-Key': 'slow-2' },
      );
      expect(other.status).toBe(200);
      expect(other.body.results[0]?.status).toBe('pending');

      gate.release();
      const done = await first;
      expect(done.status).toBe(200);
      expect(done.headers.get('Idempotent-Replayed')).toBeNull();
      expect(done.body.results[0]?.status).toBe('pending');

      const retry = await api.post<Results>('/api/registrations', body, { 'Idempotency-Key': 'slow-1' });
      expect(retry.status).toBe(200);
      expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
      expect(retry.body).toEqual(done.body);
      const list = await api.get<List>('/api/registrations');
      expect(list.body.total).toBe(2);
    } finally {
      await app.close();
    }
  });
});

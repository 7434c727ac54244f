/**
 * Working days for a year the package does not know, over real HTTP: estimates marked on what the
 * service answers, the health warning from 1 November, an administrator entering the year (400s
 * naming the date, 403 for others, the audit entry), promises already made kept and reported,
 * estimates confirmed, and new deadlines (R4, R12) counted by the entered schedule.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RowResult, SubmissionRow } from '../../core/schema.js';
import { packageSchedule } from '../../core/calendar.js';
import {
  CalendarService,
  type CalendarView,
  type MovedDeadline,
} from '../../server/services/calendarService.js';
import type { RecordView } from '../../server/services/recordView.js';
import type { AuditEntry } from '../../server/store/store.js';
import { SYNTHETIC_2027 } from '../fixtures/calendar2027.js';
import { enterpriseRow } from '../support/customers.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';
import { at } from '../support/shanghaiTime.js';

interface Results {
  results: RowResult[];
}
interface Health {
  ok: boolean;
  warnings?: { code: string; message: string; messageEn: string; details?: { year?: number } }[];
}
interface PutAnswer {
  calendar: CalendarView;
  moved: MovedDeadline[];
  confirmed: number;
}

let svc: TestService | undefined;
afterEach(async () => {
  await svc?.close();
  svc = undefined;
});

async function submit(token: string, row: SubmissionRow): Promise<RowResult> {
  const res = await svc!.api(token).post<Results>('/api/registrations', { rows: [row] });
  expect(res.status).toBe(200);
  return res.body.results[0]!;
}

describe('the calendar warning in /api/health', () => {
  it('[R12] switches on at 1 November for a coming year without an official schedule, and off once entered', async () => {
    svc = await startTestService({ now: at('2026-10-31', '23:59') });
    const health = () => svc!.api('').get<Health>('/api/health');
    expect((await health()).body.warnings).toBeUndefined();
    svc.setNow(at('2026-11-01', '00:00'));
    const warned = (await health()).body.warnings;
    expect(warned).toEqual([
      expect.objectContaining({ code: 'calendar.next_year_missing', details: { year: 2027 } }),
    ]);
    expect(warned?.[0]?.message).toContain('2027');
    expect(warned?.[0]?.messageEn).toContain('PUT /api/calendar/2027');
    expect((await svc.api(svc.adminToken).put('/api/calendar/2027', SYNTHETIC_2027)).status).toBe(200);
    expect((await health()).body.warnings).toBeUndefined();
  });

  it('[R12] warns inside a year nobody entered, and the sweep logs it once a day', async () => {
    svc = await startTestService({ now: at('2027-01-04') });
    expect((await svc.api('').get<Health>('/api/health')).body.warnings?.map((w) => w.code)).toEqual([
      'calendar.year_missing',
    ]);
    // The start-up sweep logged it; the same day's later sweeps do not repeat it.
    await svc.running.services.lifecycle.sweep();
    const lines = svc
      .logText()
      .split('\n')
      .filter((l) => l.includes('calendar.year_missing'));
    expect(lines).toHaveLength(1);
  });
});

describe('entering a year', () => {
  it('[R12] GET says where a year comes from: the package, nobody, or the administrator with who and when', async () => {
    svc = await startTestService({ now: at('2026-11-23') });
    const sales = await svc.user('王磊', 'sales', '华东一部');
    const y2026 = await svc.api(sales).get<CalendarView>('/api/calendar/2026');
    expect(y2026.body).toMatchObject({ year: 2026, source: 'package' });
    expect(y2026.body.holidays).toContainEqual({ from: '2026-10-01', to: '2026-10-07', name: '国庆节' });
    expect((await svc.api(sales).get<CalendarView>('/api/calendar/2027')).body).toEqual({
      year: 2027,
      source: 'weekends-only',
      holidays: [],
      workdays: [],
    });
    await svc.api(svc.adminToken).put('/api/calendar/2027', SYNTHETIC_2027);
    const entered = await svc.api(sales).get<CalendarView>('/api/calendar/2027');
    expect(entered.body).toEqual({
      year: 2027,
      source: 'administrator',
      ...SYNTHETIC_2027,
      enteredBy: 'admin',
      enteredAt: at('2026-11-23'),
    });
  });

  it('refuses a bad schedule with 400 naming the offending date, and anyone but an administrator with 403', async () => {
    svc = await startTestService({ now: at('2026-11-23') });
    const reviewer = await svc.user('张敏', 'reviewer', '华东一部');
    const admin = svc.api(svc.adminToken);
    const both = await admin.put<ErrorBody>('/api/calendar/2027', {
      holidays: SYNTHETIC_2027.holidays,
      workdays: ['2027-02-13'],
    });
    expect(both.status).toBe(400);
    expect(both.body.error).toMatchObject({ code: 'calendar.both', field: 'workdays.0' });
    expect(both.body.error.message).toContain('2027-02-13');
    expect(both.body.error.messageEn).toContain('2027-02-13');
    const outside = await admin.put<ErrorBody>('/api/calendar/2027', {
      holidays: [{ from: '2028-01-01', to: '2028-01-01', name: '元旦' }],
    });
    expect(outside.status).toBe(400);
    expect(outside.body.error).toMatchObject({
      code: 'calendar.date_outside_year',
      field: 'holidays.0.from',
    });
    const malformed = await admin.put<ErrorBody>('/api/calendar/2027', {
      holidays: [{ from: '2027-2-8', to: '2027-02-14', name: '春节' }],
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({ code: 'request.invalid', field: 'holidays.0.from' });
    expect((await admin.put<ErrorBody>('/api/calendar/1999', SYNTHETIC_2027)).status).toBe(400);
    const forbidden = await svc.api(reviewer).put<ErrorBody>('/api/calendar/2027', SYNTHETIC_2027);
    expect(forbidden.status).toBe(403);
    // Nothing was entered by any of these.
    expect((await admin.get<CalendarView>('/api/calendar/2027')).body.source).toBe('weekends-only');
  });

  it('[R12][R4] estimates are marked; entering the year keeps promises, reports the ones that would move, confirms the rest, and counts new deadlines by it', async () => {
    svc = await startTestService({ now: at('2027-02-05') });
    const wang = await svc.user('王磊', 'sales', '华东一部');
    const li = await svc.user('李娜', 'sales', '华东一部');
    const reviewer = await svc.user('张敏', 'reviewer', '华东一部');

    // Received Friday 02-05: the Monday–Friday estimate says 02-16, in the middle of the real holiday's aftermath.
    const early = await submit(wang, enterpriseRow(1));
    expect(early).toMatchObject({ status: 'pending', reviewDueBy: '2027-02-16', estimated: ['reviewDueBy'] });
    // [R4] first contact 02-05, registered 02-15: late by the estimate.
    svc.setNow(at('2027-02-15'));
    const lateByEstimate = await submit(wang, enterpriseRow(2, { firstVisitAt: '2027-02-05' }));
    expect(lateByEstimate.warnings.map((w) => w.code)).toContain('registration.late');
    // Received Monday 03-01 + 7 → 03-10: the entered year will confirm this one.
    svc.setNow(at('2027-03-01'));
    const march = await submit(wang, enterpriseRow(3));
    expect(march).toMatchObject({ reviewDueBy: '2027-03-10', estimated: ['reviewDueBy'] });

    svc.setNow(at('2027-02-05'));
    const put = await svc.api(svc.adminToken).put<PutAnswer>('/api/calendar/2027', SYNTHETIC_2027);
    expect(put.status).toBe(200);
    expect(put.body.calendar.source).toBe('administrator');
    // 02-05 + 7 crosses the holiday week; 02-15 + 7 gains the make-up Saturday 02-20.
    expect([...put.body.moved].sort((a, b) => a.registrationNo.localeCompare(b.registrationNo))).toEqual([
      {
        registrationNo: early.registrationNo,
        field: 'reviewDueBy',
        stored: '2027-02-16',
        wouldBe: '2027-02-20',
      },
      {
        registrationNo: lateByEstimate.registrationNo,
        field: 'reviewDueBy',
        stored: '2027-02-24',
        wouldBe: '2027-02-23',
      },
    ]);
    expect(put.body.confirmed).toBe(1);

    const view = (no: string | undefined) =>
      svc!.api(svc!.adminToken).get<RecordView>(`/api/registrations/${no}`);
    // The promise made stays, still marked as an estimate; the confirmed one is no longer an estimate.
    expect((await view(early.registrationNo)).body).toMatchObject({
      reviewDueBy: '2027-02-16',
      estimated: ['reviewDueBy'],
    });
    const confirmed = (await view(march.registrationNo)).body;
    expect(confirmed.reviewDueBy).toBe('2027-03-10');
    expect(confirmed.estimated).toBeUndefined();

    // New computations use the entered schedule: received 02-05 + 7 → Saturday 02-20, not an estimate.
    const after = await submit(wang, enterpriseRow(4));
    expect(after).toMatchObject({ reviewDueBy: '2027-02-20' });
    expect(after.estimated).toBeUndefined();
    // [R4] registering 02-15 after first contact 02-05 is on time now.
    svc.setNow(at('2027-02-15'));
    const onTime = await submit(wang, enterpriseRow(5, { firstVisitAt: '2027-02-05' }));
    expect(onTime.warnings.map((w) => w.code)).not.toContain('registration.late');

    // [R12] a decision on Friday 02-05: the loser may object through 02-15 (02-06 make-up Saturday, then 02-15).
    svc.setNow(at('2027-02-05'));
    const first = await submit(wang, enterpriseRow(6));
    const second = await submit(li, enterpriseRow(6));
    expect(second.status).toBe('conflict');
    const approved = await svc
      .api(reviewer)
      .post(`/api/registrations/${first.registrationNo}/review`, { decision: 'approve', reason: '先报备' });
    expect(approved.status).toBe(200);
    const lost = (await view(second.registrationNo)).body;
    expect(lost).toMatchObject({ status: 'rejected', objectionDeadline: '2027-02-15' });
    expect(lost.estimated).toBeUndefined();

    const audit = await svc.api(svc.adminToken).get<{ items: AuditEntry[] }>('/api/audit?limit=200&offset=0');
    const entry = audit.body.items.find((e) => e.action === 'calendar.update');
    expect([...(entry?.records ?? [])].sort()).toEqual(
      [early.registrationNo, lateByEstimate.registrationNo].sort(),
    );
    expect(entry).toMatchObject({
      actor: 'admin',
      details: { year: 2027, holidays: 2, workdays: 2, moved: 2, confirmed: 1 },
    });
  });

  it('[R12] the moved deadlines are reported from the years the store holds, not those this instance loaded', async () => {
    svc = await startTestService({ now: at('2027-02-05') });
    const wang = await svc.user('王磊', 'sales', '华东一部');
    const early = await submit(wang, enterpriseRow(1));
    expect(early).toMatchObject({ reviewDueBy: '2027-02-16', estimated: ['reviewDueBy'] });
    // A second instance on the same store, loaded before the first enters 2027.
    const { store, services } = svc.running;
    const other = await CalendarService.open(store, services.clock, services.lifecycle);
    const put = await svc.api(svc.adminToken).put<PutAnswer>('/api/calendar/2027', SYNTHETIC_2027);
    expect(put.body.moved.map((m) => m.registrationNo)).toEqual([early.registrationNo]);
    // The other instance enters 2026: the promise of 02-16 still differs from the entered 2027's 02-20.
    const admin = { id: 'admin', name: 'admin', role: 'admin' as const };
    const answer = await other.put(admin, 2026, packageSchedule(2026)!);
    expect(answer.moved).toEqual([
      {
        registrationNo: early.registrationNo,
        field: 'reviewDueBy',
        stored: '2027-02-16',
        wouldBe: '2027-02-20',
      },
    ]);
    expect(answer.confirmed).toBe(0);
    expect(answer.lapsed).toEqual({ voided: 0, numbers: [] });
    // And it now reads 2027 as entered.
    expect(other.view(2027).source).toBe('administrator');
  });
});

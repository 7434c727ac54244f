/**
 * One customer claimed by many people at the same moment, each with a contact of their own: what
 * every store and every deployment (one process, several instances) must answer. Shared by the
 * concurrency suites so that the single-process and multi-instance cases prove the same thing.
 */
import { expect } from 'vitest';
import type { RowResult, SubmissionRow } from '../../core/schema.js';
import { enterpriseRow } from './customers.js';

/** Claimant `i`'s row: the same company, a phone of their own. */
export function raceRow(i: number): SubmissionRow {
  return { ...enterpriseRow(1), contactPhone: `1370000${String(i).padStart(4, '0')}` };
}

/** Exactly one claim is granted; every other is a conflict naming it; all numbers differ. Returns the winner's number. */
export function expectOneWinner(results: readonly RowResult[], numberPattern: RegExp): string {
  const pending = results.filter((r) => r.status === 'pending');
  const conflicts = results.filter((r) => r.status === 'conflict');
  expect(pending).toHaveLength(1);
  expect(conflicts).toHaveLength(results.length - 1);
  const winner = pending[0]!.registrationNo!;
  // Each conflict names the pending claim it competes with.
  for (const c of conflicts) {
    expect(c.conflicts.map((x) => x.registrationNo)).toContain(winner);
    expect(c.registrationNo).toMatch(numberPattern);
  }
  expect(new Set(results.map((r) => r.registrationNo)).size).toBe(results.length);
  return winner;
}

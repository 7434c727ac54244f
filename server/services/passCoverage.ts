/**
 * What the last pass of a periodic sweep covered (issue 12: cost follows the work). A pass whose
 * outcome depends only on each record, the Shanghai day, the policy and the calendar reads every
 * record it may act on once (a full pass); until one of those inputs changes, what else it could
 * act on is among the records written since the mark taken before that read (a written pass).
 * Shared by the reminder run (server/notify/reminderScheduler.ts) and the lifecycle sweep's lapse
 * pass (server/services/lifecycleService.ts).
 */
import type { WorkCalendar } from '../../core/calendar.js';
import type { Policy } from '../../core/policy.js';
import type { Day, StoredRecord } from '../../core/schema.js';
import type { ReadTx, WriteMark } from '../store/store.js';

/** The inputs a pass's outcome depends on besides the records. */
export interface PassInputs {
  day: Day;
  policy: Policy;
  /** Compared by identity: CalendarService makes a new object whenever a schedule is entered. */
  calendar: WorkCalendar;
}

/** A pass begun: the mark taken before its reads, and what it may read instead of everything. */
export interface PassStart {
  readonly mark: WriteMark;
  /** The last pass's mark when it covered the same inputs; undefined: read in full. */
  readonly since: WriteMark | undefined;
  readonly inputs: { day: Day; policy: string; calendar: WorkCalendar };
}

export class PassCoverage {
  private covered: { day: Day; policy: string; calendar: WorkCalendar; mark: WriteMark } | undefined;

  /**
   * Inside the pass's read or write, before it reads any record: whatever commits after the mark
   * is read by this pass or by the next. Forgets the last pass until `covered` is called, so a pass
   * that fails (or overlaps another) leaves the next one to read in full.
   */
  async begin(tx: ReadTx, inputs: PassInputs): Promise<PassStart> {
    const mark = await tx.writeMark();
    const policy = JSON.stringify(inputs.policy);
    const last = this.covered;
    this.covered = undefined;
    const same =
      last !== undefined &&
      last.day === inputs.day &&
      last.policy === policy &&
      last.calendar === inputs.calendar;
    return {
      mark,
      since: same ? last.mark : undefined,
      inputs: { day: inputs.day, policy, calendar: inputs.calendar },
    };
  }

  /**
   * The records written since the last pass, as they stand in `tx`; undefined when this pass must
   * read in full (other inputs, no pass yet, or the store can no longer tell).
   */
  async written(tx: ReadTx, start: PassStart): Promise<StoredRecord[] | undefined> {
    return start.since === undefined ? undefined : tx.recordsWrittenSince(start.since);
  }

  /** Once the pass has succeeded (its write committed). */
  covers(start: PassStart): void {
    this.covered = { ...start.inputs, mark: start.mark };
  }
}

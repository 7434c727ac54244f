/**
 * ANALYZE of a growing PostgreSQL store's record tables (issue 12), so the batch look-ups are planned
 * on the tables' real size rather than on an empty table's.
 *
 * Why the store does it: autovacuum analyses a table only after 50 + 10% of its rows changed, and
 * looks at most once a minute, so a young store (a new deployment, a first import) is planned for a
 * minute or more without statistics. The prepared statements then keep a generic plan made on an
 * almost empty table: `prefetchRecords` was seen scanning all of `record_keys`, comparing each row
 * with each of the batch's ~1,000 keys (1.27 s at 32,000 keys, against 10 ms through the index once
 * analysed; docs/architecture.md, "Locking on PostgreSQL"). ANALYZE also invalidates those plans.
 */
import type pg from 'pg';

/** Below this many records written since the last ANALYZE, none is run (the first one included). */
export const ANALYZE_MIN_ROWS = 1_000;

/**
 * Runs ANALYZE of records, record_keys and lock_keys each time this instance has written as many
 * records as the table held at the last one (doubling, at least ANALYZE_MIN_ROWS): a handful of
 * runs over a store's life, each tens of milliseconds. In the background, after the commit that
 * crossed the mark, on a pool connection; ANALYZE blocks no reads or writes (it conflicts only with
 * VACUUM and another ANALYZE of the table, which it waits for).
 */
export class GrowthAnalyzer {
  private written = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    /** Records in the table at the last ANALYZE (PostgreSQL's estimate at open, 0 if never). */
    private size: number,
  ) {}

  /** Counts the records a committed transaction wrote, and starts an ANALYZE when they reach the mark. */
  committed(records: number): void {
    this.written += records;
    if (this.running !== undefined || this.written < Math.max(ANALYZE_MIN_ROWS, this.size)) return;
    this.size += this.written;
    this.written = 0;
    const s = this.schema;
    this.running = this.pool
      .query(`ANALYZE ${s}.records, ${s}.record_keys, ${s}.lock_keys`)
      .then(
        () => undefined,
        // Statistics are an optimisation: a failed run (the connection lost, say) is retried at the
        // next mark, and the error, if it lasts, reaches the caller of the next write.
        () => undefined,
      )
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Waits for a running ANALYZE (before the pool closes). */
  async settled(): Promise<void> {
    await this.running;
  }
}

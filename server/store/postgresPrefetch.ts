/**
 * What a PostgreSQL write transaction fetched for a batch's look-ups (PostgresTx.prefetchKeys, where
 * it says why answering from it is safe): records and bans under a set of index keys, kept current
 * with the records the transaction itself writes out.
 */
import type { Ban } from './store.js';
import type { SealedRecord } from './recordCodec.js';

/** Records stay sealed until a look-up accepts them; PostgresTx.flush files the records it writes. */
export class Prefetched {
  /** Per covered key, the records filed under it. */
  private readonly nosByKey = new Map<string, Set<string>>();
  /** Per record here, its covered keys (to unfile it when it is written again with other keys). */
  private readonly keysByNo = new Map<string, string[]>();
  private readonly records = new Map<string, SealedRecord>();
  /** Every registrant's bans on the covered keys, oldest first; undefined once a ban is added. */
  bans: { ban: Ban; keys: ReadonlySet<string> }[] | undefined;

  constructor(readonly keys: ReadonlySet<string>) {}

  covers(keys: readonly string[]): boolean {
    return keys.every((key) => this.keys.has(key));
  }

  /** Files a record under those of its keys that are covered, replacing what was filed for it. */
  file(record: SealedRecord, keys: readonly string[]): void {
    for (const key of this.keysByNo.get(record.no) ?? []) this.nosByKey.get(key)?.delete(record.no);
    const covered = keys.filter((key) => this.keys.has(key));
    if (covered.length === 0) {
      this.keysByNo.delete(record.no);
      this.records.delete(record.no);
      return;
    }
    for (const key of covered) {
      let nos = this.nosByKey.get(key);
      if (!nos) this.nosByKey.set(key, (nos = new Set()));
      nos.add(record.no);
    }
    this.keysByNo.set(record.no, covered);
    this.records.set(record.no, record);
  }

  /** The records filed under any of these (covered) keys, each once, in number order as the query. */
  recordsUnder(keys: readonly string[]): SealedRecord[] {
    const nos = new Set<string>();
    for (const key of keys) for (const no of this.nosByKey.get(key) ?? []) nos.add(no);
    return [...nos].sort(compareCodeUnits).map((no) => this.records.get(no)!);
  }
}

/** Code-unit order, as the "C" collation the numbers are sorted by in SQL. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A write that stages everything as a commit would (records sealed) and is then discarded before
 * its commit: the benches' way to measure the per-row work without the file write. `simulate` is
 * not that: a dry run stages its records unsealed, since it never commits them.
 */
import type { Store, WriteTx } from '../server/store/store.js';

const discard = new Error('discarded by the bench');

export async function discardedWrite<T>(store: Store, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
  let value: T | undefined;
  try {
    await store.write(async (tx) => {
      value = await fn(tx);
      throw discard;
    });
  } catch (err) {
    if (err !== discard) throw err;
  }
  return value as T;
}

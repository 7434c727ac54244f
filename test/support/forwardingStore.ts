/**
 * A store that hands every call to a real one: tests subclass it and override only the call they
 * interfere with (hold a write, fail a read).
 */
import type { ReadTx, Store, WriteTx } from '../../server/store/store.js';

export class ForwardingStore implements Store {
  readonly kind: Store['kind'];

  constructor(protected readonly inner: Store) {
    this.kind = inner.kind;
  }

  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    return this.inner.read(fn);
  }

  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.inner.write(fn);
  }

  simulate<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.inner.simulate(fn);
  }

  appendAudit(...args: Parameters<Store['appendAudit']>): ReturnType<Store['appendAudit']> {
    return this.inner.appendAudit(...args);
  }

  listAudit(...args: Parameters<Store['listAudit']>): ReturnType<Store['listAudit']> {
    return this.inner.listAudit(...args);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  dump(): ReturnType<Store['dump']> {
    return this.inner.dump();
  }

  load(...args: Parameters<Store['load']>): ReturnType<Store['load']> {
    return this.inner.load(...args);
  }
}

/** Counts the statements a piece of work sends to PostgreSQL, for tests that bound round trips. */
import pg from 'pg';
import { vi } from 'vitest';

/** Statements sent to PostgreSQL while `work` runs, by name (or text). */
export async function counted<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  // Every pool connection is a pg.Client: counting at its prototype counts every round trip.
  const counting = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (
    this: pg.Client,
    ...args: unknown[]
  ) {
    const config = args[0] as string | { name?: string; text?: string };
    statements.push(typeof config === 'string' ? config : (config.name ?? config.text ?? ''));
    return original.apply(this, args) as never;
  });
  try {
    return { result: await work(), statements };
  } finally {
    counting.mockRestore();
  }
}

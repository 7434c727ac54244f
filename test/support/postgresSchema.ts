/**
 * The PostgreSQL schemas tests and benches make for themselves: the database they reach, a name no
 * other run uses (runs in parallel never collide), and the clean-up. No vitest here: the benches
 * import it too.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The database tests and benches use: `BAOBEI_TEST_DATABASE_URL`, else the local one (trust auth). */
export const TEST_DATABASE_URL =
  process.env['BAOBEI_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name of its own for this run: `prefix`, this process and a random part. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * Removes the schemas a test or bench made for itself (absent ones are no error), over a connection
 * of its own: the store's pool may be closed by then.
 */
export async function dropSchema(connectionString: string, ...schemas: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  try {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
}

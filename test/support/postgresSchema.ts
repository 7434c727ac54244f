/**
 * Removes a PostgreSQL schema a test or bench made for itself (each run makes its own, so runs never
 * collide), over a connection of its own: the store's pool may be closed by then.
 */
import pg from 'pg';

export async function dropSchema(connectionString: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
}

/**
 * A PostgreSQL that cannot be used is told as `store.unreachable` — the address (host, port,
 * database: never the user or password) and the reason — against the real local server: a port
 * nobody listens on, a database that does not exist. A wrong URL is told apart from a server that
 * is down; other errors pass through as they were.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../core/problem.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { PostgresStore } from '../../server/store/postgresStore.js';
import { isPostgresUrl, postgresAddress, postgresUnreachable } from '../../server/store/postgresReach.js';
import { closedPort } from '../support/childService.js';
import { TEST_DATABASE_URL as DATABASE_URL } from '../support/postgresSchema.js';

const keyring = keyringFromMasterKey(Buffer.alloc(32, 7));

async function openError(connectionString: string): Promise<unknown> {
  try {
    const store = await PostgresStore.open({ connectionString, keyring, schema: 'reach_never_created' });
    await store.close();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('a PostgreSQL that cannot be used', () => {
  it('a refused connection names host, port and database, not the password', async () => {
    const port = await closedPort();
    const err = await openError(`postgres://baobei:s3cret-pw@127.0.0.1:${port}/baobei_prod`);
    expect(err).toBeInstanceOf(DomainError);
    const domain = err as DomainError;
    expect(domain.code).toBe('store.unreachable');
    expect(domain.field).toBe('DATABASE_URL');
    expect(domain.message).toBe(
      `无法使用 PostgreSQL 127.0.0.1:${port}/baobei_prod：连接被拒绝（服务器未运行，或端口不对）`,
    );
    expect(domain.messageEn).toContain(`127.0.0.1:${port}/baobei_prod: connection refused`);
    for (const text of [domain.message, domain.messageEn]) {
      expect(text).not.toContain('s3cret-pw');
      expect(text).not.toContain('baobei:');
    }
  });

  it('a database the server does not have is told as such', async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = '/baobei_no_such_database';
    const err = await openError(url.toString());
    expect((err as DomainError).code).toBe('store.unreachable');
    expect((err as DomainError).messageEn).toMatch(/baobei_no_such_database: the database does not exist$/);
  });

  it('tells a wrong URL from a server that is down; other errors are left as they were', () => {
    expect(isPostgresUrl('postgres://u@db.internal:5433/baobei')).toBe(true);
    expect(isPostgresUrl('postgresql://db/baobei?sslmode=require')).toBe(true);
    expect(isPostgresUrl('socket:/var/run/postgresql?db=baobei')).toBe(true);
    // What pg would otherwise read as a host name (`notaurl` ended as "ENOTFOUND base").
    for (const wrong of ['notaurl', 'db.internal:5432/baobei', 'mysql://db/baobei', 'http://db/x', ''])
      expect(isPostgresUrl(wrong), wrong).toBe(false);

    expect(postgresAddress('postgres://u:pw@db.internal/baobei')).toBe('db.internal:5432/baobei');
    expect(postgresAddress('postgresql://[::1]:6432/x')).toBe('[::1]:6432/x');
    expect(postgresAddress('notaurl')).toBe('(DATABASE_URL)');

    // localhost tried over IPv6 and IPv4: the reason is found inside the aggregate.
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' });
    const both = new AggregateError([refused, refused], '');
    expect(postgresUnreachable(both, 'postgres://localhost/x')?.messageEn).toContain('connection refused');
    const timeout = new Error('timeout exceeded when trying to connect');
    expect(postgresUnreachable(timeout, 'postgres://h/x')?.messageEn).toContain('timed out');
    const auth = Object.assign(new Error('password authentication failed for user "u"'), { code: '28P01' });
    expect(postgresUnreachable(auth, 'postgres://u:pw@h/x')?.message).toContain('用户名或密码错误');
    // A query's own failure (a unique violation, say) is not "unreachable".
    const other = Object.assign(new Error('duplicate key'), { code: '23505' });
    expect(postgresUnreachable(other, 'postgres://h/x')).toBeUndefined();
    expect(postgresUnreachable('not an error', 'postgres://h/x')).toBeUndefined();
  });
});

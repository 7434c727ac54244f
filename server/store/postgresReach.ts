/**
 * The PostgreSQL address as people and config give it, and why a store there could not be reached,
 * told so an operator can act on it. A refused connection or a mistyped database used to end the
 * service's start (and `store copy`, `restore`) as "internal error: connect ECONNREFUSED". The
 * address shown is host, port and database only: a URL's user name and password never reach a
 * message or the log.
 */
import { DomainError, problem } from '../../core/problem.js';

/** Schemes the pg client reads as a connection URL (socket: for a Unix socket directory). */
const URL_SCHEMES = new Set(['postgres:', 'postgresql:', 'socket:']);

/** Whether `text` is a URL the pg client takes as one (anything else it misreads as a host name). */
export function isPostgresUrl(text: string): boolean {
  return URL.canParse(text) && URL_SCHEMES.has(new URL(text).protocol);
}

/** host:port/database of a PostgreSQL URL, without user or password. */
export function postgresAddress(connectionString: string): string {
  if (!URL.canParse(connectionString)) return '(DATABASE_URL)';
  const url = new URL(connectionString);
  if (url.protocol === 'socket:') return `socket ${url.pathname}`;
  const host = url.hostname !== '' ? url.hostname : (url.searchParams.get('host') ?? 'localhost');
  return `${host}:${url.port !== '' ? url.port : '5432'}${url.pathname !== '' ? url.pathname : '/'}`;
}

/** Network errors from Node and the server's SQLSTATEs that mean "cannot use this database at all". */
const REASONS: Record<string, readonly [zh: string, en: string]> = {
  ECONNREFUSED: [
    '连接被拒绝（服务器未运行，或端口不对）',
    'connection refused (the server is not running, or the port is wrong)',
  ],
  ENOTFOUND: ['主机名无法解析', 'the host name does not resolve'],
  EAI_AGAIN: ['主机名暂时无法解析', 'the host name cannot be resolved just now'],
  ETIMEDOUT: ['连接超时', 'the connection timed out'],
  EHOSTUNREACH: ['主机不可达', 'the host is unreachable'],
  ENETUNREACH: ['网络不可达', 'the network is unreachable'],
  ECONNRESET: ['连接被对方重置', 'the connection was reset'],
  '28P01': ['用户名或密码错误', 'password authentication failed'],
  '28000': ['服务器不允许该用户连接（pg_hba.conf）', 'the server does not accept this user (pg_hba.conf)'],
  '3D000': ['数据库不存在', 'the database does not exist'],
  '53300': ['服务器连接数已满', 'the server has too many connections'],
  '57P03': ['服务器正在启动或关闭', 'the server is starting up or shutting down'],
  // Lost while running (the store maps these too): an administrator or a restart ended the session.
  '57P01': [
    '服务器终止了连接（重启或管理员操作）',
    'the server ended the connection (restart or administrator)',
  ],
  '57P02': ['服务器因故障终止了连接', 'the server ended the connection after a crash'],
  lost: ['与服务器的连接中断', 'the connection to the server was lost'],
};

/**
 * `store.unreachable` when `err` says the database cannot be used at all (refused, unknown host,
 * timeout, authentication, no such database); undefined for anything else, which the caller
 * rethrows as it was.
 */
export function postgresUnreachable(err: unknown, connectionString: string): DomainError | undefined {
  const reason = reasonOf(err);
  if (reason === undefined) return undefined;
  const address = postgresAddress(connectionString);
  return new DomainError(
    problem(
      'store.unreachable',
      `无法使用 PostgreSQL ${address}：${reason[0]}`,
      `Cannot use PostgreSQL at ${address}: ${reason[1]}`,
      'DATABASE_URL',
    ),
  );
}

function reasonOf(err: unknown): readonly [string, string] | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code];
  // `localhost` tried over IPv6 and IPv4: Node reports an AggregateError of both attempts.
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const found = reasonOf(inner);
      if (found !== undefined) return found;
    }
  }
  // The pg pool's connectionTimeoutMillis, and the client's own.
  if (/timeout exceeded when trying to connect|connection timeout/i.test(err.message))
    return REASONS['ETIMEDOUT'];
  // pg's own words for a socket that closed under a query (no code): the server or network went away.
  if (/^Connection terminated/i.test(err.message)) return REASONS['lost'];
  return undefined;
}

/**
 * How CLI commands (`user add`, `import`) reach a running service: its address is `--url`, else
 * BAOBEI_URL, else the URL the service recorded in the data dir's lock (so a service on any port
 * is found), else the configured public URL or localhost:PORT. Its token is `--token`, else
 * BAOBEI_TOKEN, else the administrator's `admin.token`. A service that cannot be reached is a
 * problem the user can fix: one bilingual line naming the address tried (exit code 2).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DomainError, problem } from '../core/problem.js';
import type { Config } from './config.js';
import { lockOwner } from './store/dataDirLock.js';

export interface ServiceTarget {
  url: string;
  /** Where the address came from, for messages: `--url`, `BAOBEI_URL`, the lock file, the config. */
  from: string;
}

/**
 * The service to talk to, or undefined when none holds the data dir and none was named (the
 * command then opens the store itself).
 */
export function findService(config: Config, explicitUrl?: string): ServiceTarget | undefined {
  if (explicitUrl !== undefined) return { url: explicitUrl, from: '--url' };
  const fromEnv = process.env['BAOBEI_URL'];
  if (fromEnv !== undefined && fromEnv !== '') return { url: fromEnv, from: 'BAOBEI_URL' };
  const owner = lockOwner(config.dataDir);
  if (!owner) return undefined;
  const lockFile = path.join(config.dataDir, 'baobei.lock');
  // The recorded URL is this machine's view (a loopback address); from another host it means nothing.
  if (owner.url !== undefined && owner.host === os.hostname()) return { url: owner.url, from: lockFile };
  return {
    url: config.publicUrl ?? `http://localhost:${config.port}`,
    from: config.publicUrl !== undefined ? 'BAOBEI_PUBLIC_URL' : 'PORT',
  };
}

/** The token for the service: `--token`, BAOBEI_TOKEN, or the administrator's token file. */
export async function serviceToken(config: Config, explicit?: string): Promise<string> {
  const token =
    explicit ??
    process.env['BAOBEI_TOKEN'] ??
    (await readFile(path.join(config.dataDir, 'admin.token'), 'utf8').catch(() => '')).trim();
  if (token === '') {
    throw new DomainError(
      problem(
        'service.token_missing',
        `需要访问令牌：用 --token 或 BAOBEI_TOKEN 提供，或在服务的数据目录中放 admin.token（${config.dataDir}）`,
        `A token is needed: give one with --token or BAOBEI_TOKEN, or run where the service's admin.token is (${config.dataDir})`,
        'token',
      ),
    );
  }
  return token;
}

/** fetch, with a network failure turned into one line naming the address tried. */
export async function callService(
  target: ServiceTarget,
  route: string,
  init: RequestInit = {},
): Promise<Response> {
  let url: URL;
  try {
    url = new URL(route, target.url);
  } catch {
    throw new DomainError(
      problem(
        'service.url_invalid',
        `服务地址无效：${target.url}（来自 ${target.from}）`,
        `Not a service address: ${target.url} (from ${target.from})`,
        'url',
      ),
    );
  }
  try {
    return await fetch(url, init);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new DomainError(
      problem(
        'service.unreachable',
        `无法连接服务 ${target.url}（${why}；地址来自 ${target.from}）。服务在运行吗？可用 --url 指定地址`,
        `Cannot reach the service at ${target.url} (${why}; address from ${target.from}). Is it running? Give its address with --url`,
        'url',
      ),
      { url: target.url },
    );
  }
}

/** The body of a service response as JSON; anything else (another program on that port) named as such. */
export async function serviceJson<T>(target: ServiceTarget, res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new DomainError(
      problem(
        'service.unexpected_response',
        `${target.url} 的回答不是 Baobei 服务的回答（HTTP ${res.status}）：地址对吗？`,
        `The answer from ${target.url} is not a Baobei service's (HTTP ${res.status}): is the address right?`,
        'url',
      ),
    );
  }
}

/** A failed call's `{error}` body as a DomainError (its code and both messages), else the HTTP status. */
export function serviceError(
  res: Response,
  body: { error?: { code?: string; message?: string; messageEn?: string } },
): DomainError {
  return new DomainError(
    problem(
      body.error?.code ?? 'service.failed',
      body.error?.message ?? `服务返回 HTTP ${res.status}`,
      body.error?.messageEn ?? `The service answered HTTP ${res.status}`,
    ),
  );
}

/**
 * A real service on a temp data dir for HTTP tests: real store on disk, real HTTP on a random
 * port, a clock the test can move, and the log captured so tests can prove what never reaches it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startService, type RunningService } from '../../server/service.js';
import { VERSION } from '../../server/version.js';
import { createApp } from '../../server/app.js';
import { keyringFromMasterKey } from '../../server/security/keyring.js';
import { createUser } from '../../server/services/userService.js';
import { LowdbStore } from '../../server/store/lowdbStore.js';
import { DirFileVault } from '../../server/store/dirFileVault.js';
import type { Store } from '../../server/store/store.js';

export interface TestService {
  url: string;
  dataDir: string;
  adminToken: string;
  running: RunningService;
  /** Everything the service logged, as text. */
  logText(): string;
  /** Sets the service's clock (an ISO instant or Date). */
  setNow(at: string | Date): void;
  now(): Date;
  api(token: string): Api;
  /** Creates a user through the API and returns its token. */
  user(name: string, role: 'sales' | 'reviewer' | 'admin', team?: string): Promise<string>;
  close(): Promise<void>;
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** The error shape of every failed request: `{"error": {code, message, messageEn, field?, requestId?, details?}}`. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    messageEn: string;
    field?: string;
    requestId?: string;
    details?: Record<string, unknown>;
  };
}

export interface Api {
  get<T = unknown>(p: string, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  post<T = unknown>(p: string, body: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  put<T = unknown>(p: string, body: unknown): Promise<ApiResponse<T>>;
  patch<T = unknown>(p: string, body: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
}

export async function startTestService(
  options: {
    env?: Record<string, string>;
    now?: string;
    dataDir?: string;
    keepData?: boolean;
    key?: string;
  } = {},
): Promise<TestService> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'baobei-test-')));
  const config: Config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    BAOBEI_DATA_DIR: dataDir,
    BAOBEI_KEY: options.key ?? randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    BAOBEI_SWEEP_SECONDS: '3600',
    ...options.env,
  });
  let log = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      log += chunk.toString('utf8');
      cb();
    },
  });
  let now = new Date(options.now ?? '2026-11-23T02:00:00.000Z');
  const running = await startService(config, { logger: createLogger('info', sink), clock: () => now });
  const adminToken = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
  const api = (token: string): Api => apiClient(running.url, token);
  return {
    url: running.url,
    dataDir,
    adminToken,
    running,
    logText: () => log,
    setNow: (at) => {
      now = new Date(at);
    },
    now: () => now,
    api,
    async user(name, role, team) {
      const res = await api(adminToken).post<{ token: string }>('/api/users', {
        name,
        role,
        ...(team ? { team } : {}),
      });
      if (res.status !== 201) throw new Error(`user ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token;
    },
    async close() {
      await running.close();
      if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A JSON client for one bearer token against a base URL. */
export function apiClient(baseUrl: string, token: string): Api {
  const call = async <T>(method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(baseUrl + p, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: (text === '' ? undefined : JSON.parse(text)) as T,
      headers: res.headers,
    };
  };
  return {
    get: (p, headers) => call('GET', p, undefined, headers),
    post: (p, body, headers) => call('POST', p, body, headers),
    put: (p, body) => call('PUT', p, body),
    patch: (p, body, headers) => call('PATCH', p, body, headers),
  };
}

export interface TestApp {
  url: string;
  /** The real lowdb store under the wrapper. */
  store: LowdbStore;
  api(token: string): Api;
  /** Creates a user directly on the store and returns its token. */
  user(name: string, role: 'sales' | 'reviewer' | 'admin', team?: string): Promise<string>;
  logText(): string;
  close(): Promise<void>;
}

/**
 * The real application (`createApp`) around a store the test wraps — to hold a write open, or to
 * make the store fail — served over real HTTP from a real lowdb store on a temp data dir.
 */
export async function startTestApp(options: {
  wrapStore: (store: Store) => Store;
  now?: string;
}): Promise<TestApp> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'baobei-app-'));
  const keyring = keyringFromMasterKey(randomBytes(32));
  const store = await LowdbStore.open({ dataDir, keyring, purpose: 'test' });
  let log = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      log += chunk.toString('utf8');
      cb();
    },
  });
  const now = new Date(options.now ?? '2026-11-23T02:00:00.000Z');
  const { app } = createApp({
    store: options.wrapStore(store),
    files: await DirFileVault.open({ dataDir, keyring }),
    keyring,
    logger: createLogger('info', sink),
    version: VERSION,
    clock: () => now,
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    api: (token) => apiClient(url, token),
    async user(name, role, team) {
      const { token } = await createUser(store, { name, role, ...(team ? { team } : {}) }, now);
      return token;
    },
    logText: () => log,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

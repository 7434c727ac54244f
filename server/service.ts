/**
 * Starting and stopping the service: open the store (taking the data dir's lock), create the first
 * administrator on first start, serve HTTP, run the sweep, and shut down cleanly on a signal.
 */
import { constants, openSync, writeSync, closeSync, fsyncSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from 'pino';
import type { Express } from 'express';
import { ConfigError, type Config } from './config.js';
import { createApp, type AppServices } from './app.js';
import { keyringFromMasterKey, loadMasterKey, type Keyring } from './security/keyring.js';
import { LowdbStore } from './store/lowdbStore.js';
import type { Store } from './store/store.js';
import { createUser } from './services/userService.js';
import { DomainError } from '../core/problem.js';
import { addinRoutes } from './http/addinRoutes.js';

/** The package version, from package.json one level up from the sources, or two from the build in dist/. */
export const VERSION: string = packageVersion();

function packageVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'baobei') return pkg.version;
    } catch {
      // not there: try the next level
    }
  }
  return '0.0.0';
}

export interface RunningService {
  url: string;
  store: Store;
  services: AppServices;
  app: Express;
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** Lines for a person starting the service (URL, where the admin token is). */
  say?: (line: string) => void;
  clock?: () => Date;
  mount?: Parameters<typeof createApp>[0]['mount'];
}

export async function openStore(
  config: Config,
  purpose: string,
): Promise<{ store: Store; keyring: Keyring }> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const { key } = loadMasterKey(config.key, path.join(config.dataDir, 'baobei.key'));
  const keyring = keyringFromMasterKey(key);
  if (config.store === 'postgres') {
    const { PostgresStore } = await import('./store/postgresStore.js');
    return {
      store: await PostgresStore.open({
        connectionString: config.databaseUrl!,
        keyring,
        dataDir: config.dataDir,
      }),
      keyring,
    };
  }
  return { store: await LowdbStore.open({ dataDir: config.dataDir, keyring, purpose }), keyring };
}

/** First start: an administrator, whose token goes to `admin.token` (mode 600) in the data dir. */
/**
 * First start — of the service or of a CLI command on a fresh data dir: without an administrator,
 * one is created and its token written to `admin.token` (mode 600). Returns that file's path.
 */
export async function ensureAdmin(store: Store, dataDir: string, now: Date): Promise<string | undefined> {
  const users = await store.read((tx) => tx.listUsers());
  if (users.some((u) => u.role === 'admin' && !u.disabled)) return undefined;
  let token: string;
  try {
    ({ token } = await createUser(store, { name: 'admin', role: 'admin' }, now));
  } catch (err) {
    // Another instance on the same database created it first.
    if (err instanceof DomainError && err.code === 'user.exists') return undefined;
    throw err;
  }
  const file = path.join(dataDir, 'admin.token');
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return file;
}

/** Reads the PEM files named by BAOBEI_TLS_CERT/KEY; a missing file stops the start naming the variable. */
function tlsFiles(tls: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const readPem = (file: string, variable: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(
        `配置错误 / invalid configuration:\n  ${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  };
  return { cert: readPem(tls.certFile, 'BAOBEI_TLS_CERT'), key: readPem(tls.keyFile, 'BAOBEI_TLS_KEY') };
}

export async function startService(config: Config, options: StartOptions): Promise<RunningService> {
  const say = options.say ?? (() => undefined);
  const { store, keyring } = await openStore(config, 'serve');
  const clock = options.clock ?? (() => new Date());
  try {
    const tokenFile = await ensureAdmin(store, config.dataDir, clock());
    const { app, services } = createApp({
      store,
      keyring,
      logger: options.logger,
      version: VERSION,
      clock,
      corsOrigins: config.corsOrigins,
      jsonLimit: config.jsonLimit,
      rateLimitPerMinute: config.rateLimitPerMinute,
      uploadLimitBytes: config.uploadLimitBytes,
      mount: (app, services) => {
        app.use('/addin', addinRoutes({ publicUrl: config.publicUrl }));
        options.mount?.(app, services);
      },
    });
    await services.calendars.refresh();
    const server: Server = config.tls ? createHttpsServer(tlsFiles(config.tls), app) : createHttpServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const url = config.publicUrl ?? `${config.tls ? 'https' : 'http'}://localhost:${port}`;
    if (tokenFile) say(`首次启动：管理员令牌已写入 / first start, admin token written to ${tokenFile}`);
    say(`Baobei ${VERSION} 已启动 / listening: ${url} (store: ${store.kind}, data: ${config.dataDir})`);

    const sweep = async () => {
      try {
        await services.calendars.refresh();
        for (const warning of services.calendars.warningsToLog()) {
          options.logger.warn({ code: warning.code, details: warning.details }, warning.messageEn);
        }
        const r = await services.lifecycle.sweep();
        if (r.expired + r.voided > 0) options.logger.info(r, 'sweep');
      } catch (err) {
        options.logger.error({ err }, 'sweep failed');
      }
    };
    await sweep();
    const timer = setInterval(() => void sweep(), config.sweepSeconds * 1000);
    timer.unref();

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        clearInterval(timer);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await store.close();
      })());
    return { url, store, services, app, close };
  } catch (err) {
    await store.close();
    throw err;
  }
}

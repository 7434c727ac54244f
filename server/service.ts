/**
 * Starting and stopping the service: bind the port (first, so a busy port stops the start before
 * anything is created on disk), open the store (taking the data dir's lock, which then records the
 * URL for the CLI), create the first administrator on first start, serve HTTP with the configured
 * timeouts, run the sweep, and shut down cleanly on a signal.
 *
 * Over 600 lines as one file: the start's order (port, store, admin, first sweep, answering) and the
 * stop's are one sequence whose steps depend on each other; the pieces that stand alone live elsewhere.
 */
import { constants, existsSync, openSync, writeSync, closeSync, fsyncSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Express } from 'express';
import { ConfigError, configError, type Config } from './config.js';
import { createApp, type AppServices } from './app.js';
import { GoogleSheetsClient } from './sheets/googleClient.js';
import { loadServiceAccountKey } from './sheets/googleCredentials.js';
import { keyringFromMasterKey, loadMasterKey, parseMasterKey, type Keyring } from './security/keyring.js';
import { rekeyIfNeeded } from './services/identityRekey.js';
import { raiseStoredRetention } from './services/retentionService.js';
import { LowdbStore } from './store/lowdbStore.js';
import type { Store } from './store/store.js';
import type { FileVault } from './store/fileVault.js';
import { configuredLocation } from './storeLocation.js';
import { foreignSchemaProblem } from './store/foreignSchema.js';
import { DirFileVault } from './store/dirFileVault.js';
import { readBackupKey } from './store/backupFile.js';
import { createUser } from './services/userService.js';
import { DomainError, problem } from '../core/problem.js';
import { addinRoutes } from './http/addinRoutes.js';
import { errorBody } from './http/errors.js';
import { lockOwner, recordServiceUrl } from './store/dataDirLock.js';
import { createEmailChannel, type EmailChannel } from './notify/emailChannel.js';
import { OutboxWorker } from './notify/outboxWorker.js';
import { ReminderSweep } from './notify/reminderScheduler.js';
import { ROBOTS_COLLECTION, loadRobots } from './notify/notifySettings.js';
import { redactRobot } from './notify/channelSettings.js';
import { VERSION } from './version.js';

export interface RunningService {
  url: string;
  store: Store;
  /** Delivers the notification outbox; stopped by `close`. */
  outbox: OutboxWorker;
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
  /** The Google client for the Sheets sync; built from the configured key when absent. */
  google?: GoogleSheetsClient;
}

/**
 * The data dir, made if missing; one that cannot be made is a configuration problem naming
 * BAOBEI_DATA_DIR. Returns the topmost directory it made (undefined when the dir was there).
 */
async function makeDataDir(dir: string): Promise<string | undefined> {
  return await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    const [zh, en] =
      err.code === 'EEXIST'
        ? ['不是目录（已有同名文件）', 'is not a directory (a file has that name)']
        : err.code === 'ENOTDIR'
          ? ['的上级路径中有文件而非目录', 'has a file, not a directory, in its path']
          : err.code === 'EACCES' || err.code === 'EPERM'
            ? ['没有权限创建', 'cannot be created: permission denied']
            : err.code === 'EROFS'
              ? ['位于只读文件系统', 'is on a read-only file system']
              : [`无法创建（${err.code ?? err.message}）`, `cannot be created (${err.code ?? err.message})`];
    throw configError(`BAOBEI_DATA_DIR: ${dir} ${zh} / ${dir} ${en}`);
  });
}

/**
 * Whether the configured store is there already; when not, opening it makes one (data dir, key
 * file, schema) and ensureAdmin its first administrator. A command that would refuse what it was
 * asked on such a store asks this first, to refuse before anything is made.
 */
export async function configuredStoreExists(config: Config): Promise<boolean> {
  const { storeAt } = await import('./store/storeTransfer.js');
  return (await storeAt(configuredLocation(config))) !== 'none';
}

/**
 * Everything that refuses the store is asked before the data dir or a key file is made, so a
 * refusal leaves nothing on disk: a PostgreSQL schema holding another application's tables, and a
 * store that exists without its key file. A key file made beside data written under another key
 * would be the wrong key sitting where the right one belongs: the start fails with "cannot be
 * decrypted" and the operator is pointed at a key file that looks in place.
 */
async function refuseTarget(config: Config, keyFile: string): Promise<void> {
  const newKey = (config.key === undefined || config.key.trim() === '') && !existsSync(keyFile);
  // A lowdb data dir holds no one else's store; only a missing key needs a look (at baobei.json).
  if (config.store === 'lowdb' && !newKey) return;
  // Loaded on demand: it brings pg, which a lowdb service never needs.
  const { storeAt } = await import('./store/storeTransfer.js');
  const location = configuredLocation(config);
  const found = await storeAt(location);
  // PostgresStore.open checks again under its lock; this earlier look is what keeps the disk clean.
  if (found === 'foreign' && location.kind === 'postgres') throw foreignSchemaProblem(location);
  if (found !== 'store' || !newKey) return;
  const where = config.store === 'postgres' ? `PostgreSQL schema ${config.pgSchema}` : config.dataDir;
  throw new DomainError(
    problem(
      'store.key_missing',
      `${where} 已有数据，但密钥文件 ${keyFile} 不见了：放回原来的 baobei.key，或设置 BAOBEI_KEY；没有生成新密钥（新密钥解不开这些数据）`,
      `${where} holds data but the key file ${keyFile} is missing: put the original baobei.key back or set BAOBEI_KEY; no new key was made (a new key cannot read this data)`,
      'BAOBEI_KEY',
    ),
  );
}

export async function openStore(
  config: Config,
  purpose: string,
): Promise<{ store: Store; keyring: Keyring }> {
  const keyFile = path.join(config.dataDir, 'baobei.key');
  // A key given is checked before anything is made, as the target is.
  const givenKey =
    config.key !== undefined && config.key.trim() !== '' ? parseMasterKey(config.key) : undefined;
  await refuseTarget(config, keyFile);
  const madeDir = await makeDataDir(config.dataDir);
  const keyring = keyringFromMasterKey(givenKey ?? loadMasterKey(undefined, keyFile).key);
  try {
    return await openStoreWith(config, purpose, keyring);
  } catch (err) {
    // Refused on opening (a key that is not the store's): the data dir made for it goes too.
    if (madeDir !== undefined) await removeUnusedDataDir(config.dataDir, madeDir);
    throw err;
  }
}

/**
 * Removes a data dir this process just made, and the parents it made, when nothing but a key file
 * made with it is inside. A store that wrote anything stays, with its key, for the operator to see.
 */
async function removeUnusedDataDir(dataDir: string, topMade: string): Promise<void> {
  const entries = await readdir(dataDir).catch(() => ['(unreadable)']);
  if (entries.some((name) => name !== 'baobei.key')) return;
  await rm(path.join(dataDir, 'baobei.key'), { force: true });
  const top = path.resolve(topMade);
  let dir = path.resolve(dataDir);
  while ((await removedIfEmpty(dir)) && dir !== top) dir = path.dirname(dir);
}

/** rmdir takes only an empty directory: one something else wrote into meanwhile stays. */
async function removedIfEmpty(dir: string): Promise<boolean> {
  try {
    await rmdir(dir);
    return true;
  } catch {
    return false;
  }
}

async function openStoreWith(
  config: Config,
  purpose: string,
  keyring: Keyring,
): Promise<{ store: Store; keyring: Keyring }> {
  if (config.store === 'postgres') {
    const { PostgresStore } = await import('./store/postgresStore.js');
    return {
      store: await PostgresStore.open({
        connectionString: config.databaseUrl!,
        // BAOBEI_PG_SCHEMA: the store and the file vault beside it share the schema.
        schema: config.pgSchema,
        keyring,
        dataDir: config.dataDir,
        ...(config.pgKeyedWrites !== undefined ? { keyedWritesAtOnce: config.pgKeyedWrites } : {}),
      }),
      keyring,
    };
  }
  const lowdb = await LowdbStore.open({
    dataDir: config.dataDir,
    keyring,
    purpose,
    ...(config.lowdbWarnRecords !== undefined ? { warnRecords: config.lowdbWarnRecords } : {}),
  });
  return { store: lowdb, keyring };
}

/** The store and the file vault beside it (the service keeps import files; CLI commands do not). */
export async function openStoreAndFiles(
  config: Config,
  purpose: string,
): Promise<{ store: Store; keyring: Keyring; files: FileVault }> {
  const { store, keyring } = await openStore(config, purpose);
  try {
    const files =
      config.store === 'postgres'
        ? await (
            await import('./store/postgresFileVault.js')
          ).PostgresFileVault.open({
            connectionString: config.databaseUrl!,
            schema: config.pgSchema,
            keyring,
          })
        : await DirFileVault.open({ dataDir: config.dataDir, keyring });
    return { store, keyring, files };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The name of the administrator a store's first start makes (ensureAdmin). */
export const FIRST_ADMIN_NAME = 'admin';

/**
 * First start — of the service or of a CLI command on a fresh data dir: without an administrator,
 * one is created and its token written to `admin.token` (mode 600). Returns that file's path.
 */
export async function ensureAdmin(store: Store, dataDir: string, now: Date): Promise<string | undefined> {
  const users = await store.read((tx) => tx.listUsers());
  if (users.some((u) => u.role === 'admin' && !u.disabled)) return undefined;
  let token: string;
  try {
    ({ token } = await createUser(store, { name: FIRST_ADMIN_NAME, role: 'admin' }, now));
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
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new ConfigError(
        `配置错误 / invalid configuration:\n  ${variable}: 无法读取 ${file}（${code}） / cannot read ${file} (${code})`,
      );
    }
  };
  return { cert: readPem(tls.certFile, 'BAOBEI_TLS_CERT'), key: readPem(tls.keyFile, 'BAOBEI_TLS_KEY') };
}

/** An HTTPS server from the PEM files; files that are not a certificate and its key stop the start naming both. */
function httpsServer(tls: { certFile: string; keyFile: string }, options: ServerOptions): Server {
  const files = tlsFiles(tls);
  try {
    return createHttpsServer({ ...files, ...options }, starting);
  } catch (err) {
    // OpenSSL's reason (e.g. "key values mismatch", "no start line"), never the files' contents.
    const why = (err as Error).message;
    throw new ConfigError(
      `配置错误 / invalid configuration:\n  BAOBEI_TLS_CERT/BAOBEI_TLS_KEY: ${tls.certFile} 和 ${tls.keyFile} 不是配对的 PEM 证书和私钥（${why}） / ` +
        `${tls.certFile} and ${tls.keyFile} are not a matching PEM certificate and private key (${why})`,
    );
  }
}

/**
 * The URL this machine reaches the service at (what the CLI uses; the public URL may be a proxy's):
 * a wildcard bind is reached on the loopback address; over HTTPS by name, which the certificate holds.
 */
export function localUrl(host: string, port: number, https: boolean): string {
  const wildcard = host === '' || host === '0.0.0.0' || host === '::';
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  let name = wildcard ? '127.0.0.1' : host;
  if (https && (wildcard || loopback)) name = 'localhost';
  if (isIP(name) === 6) name = `[${name}]`;
  return `${https ? 'https' : 'http'}://${name}:${port}`;
}

/** How often Node checks the header and request timeouts (it checks on an interval, not per socket). */
function checkingInterval(config: Config): number {
  const shortest = Math.min(config.http.headersTimeoutMs, config.http.requestTimeoutMs);
  return Math.min(30_000, Math.max(50, Math.floor(shortest / 4)));
}

/** Until the store is open, requests get 503 `service.starting` (the port is bound before it). */
function starting(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' });
  res.end(
    JSON.stringify(
      errorBody(
        problem('service.starting', '服务正在启动，请稍候', 'The service is starting; retry shortly'),
      ),
    ),
  );
}

/** Binds the port, or says in both languages why not: exit code 2, nothing created yet. */
async function listen(server: Server, config: Config): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${config.host}:${config.port}`;
    const owner = lockOwner(config.dataDir);
    const already = owner?.url
      ? {
          zh: `（这个数据目录已由 pid ${owner.pid} 在 ${owner.url} 提供服务）`,
          en: ` (this data dir is already served by pid ${owner.pid} at ${owner.url})`,
        }
      : { zh: '', en: '' };
    if (code === 'EADDRINUSE') {
      throw new DomainError(
        problem(
          'service.port_in_use',
          `端口 ${config.port} 已被占用（${where}）${already.zh}：停止占用它的程序，或用 PORT=… 换一个端口`,
          `Port ${config.port} is already in use (${where})${already.en}: stop the program using it, or choose another with PORT=…`,
          'PORT',
        ),
        { host: config.host, port: config.port },
      );
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new DomainError(
        problem(
          'service.cannot_listen',
          `无法在 ${where} 上监听：主机名 ${config.host} 无法解析；HOST 须为本机的地址或主机名（如 0.0.0.0、127.0.0.1）`,
          `Cannot listen on ${where}: the host name ${config.host} does not resolve; HOST must be an address or name of this machine (0.0.0.0, 127.0.0.1)`,
          'HOST',
        ),
        { host: config.host, port: config.port },
      );
    }
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new DomainError(
        problem(
          'service.cannot_listen',
          `无法在 ${where} 上监听（${code}）：换一个端口（PORT，1024 以上无需特权）或地址（HOST）`,
          `Cannot listen on ${where} (${code}): choose another port (PORT; above 1024 needs no privilege) or address (HOST)`,
          code === 'EACCES' ? 'PORT' : 'HOST',
        ),
        { host: config.host, port: config.port },
      );
    }
    throw err;
  }
}

export async function startService(config: Config, options: StartOptions): Promise<RunningService> {
  const say = options.say ?? (() => undefined);
  const serverOptions: ServerOptions = {
    headersTimeout: config.http.headersTimeoutMs,
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkingInterval(config),
  };
  const server: Server = config.tls
    ? httpsServer(config.tls, serverOptions)
    : createHttpServer(serverOptions, starting);
  await listen(server, config);
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });

  let opened: { store: Store; keyring: Keyring; files: FileVault };
  try {
    opened = await openStoreAndFiles(config, 'serve');
  } catch (err) {
    await closeServer();
    throw err;
  }
  const { store, keyring, files } = opened;
  const clock = options.clock ?? (() => new Date());
  const email: EmailChannel | undefined = config.smtp ? createEmailChannel(config.smtp) : undefined;
  try {
    await checkRobots(store, options.logger);
    for (const warning of store.healthWarnings?.() ?? []) {
      options.logger.warn({ code: warning.code, details: warning.details }, warning.messageEn);
    }
    const tokenFile = await ensureAdmin(store, config.dataDir, clock());
    const retention = await raiseStoredRetention(store, clock());
    if (retention) {
      options.logger.warn(
        { code: 'policy.retention_raised', ...retention },
        'the stored policy kept records fewer years than R39 allows; raised to the minimum',
      );
    }
    // Before the first request: records keyed by older rules would miss registrations of their customer.
    await rekeyAtStart(store, keyring, clock, options.logger);
    const { app, services } = createApp({
      store,
      files,
      keyring,
      logger: options.logger,
      version: VERSION,
      clock,
      corsOrigins: config.corsOrigins,
      jsonLimit: config.jsonLimit,
      rateLimitPerMinute: config.rateLimitPerMinute,
      uploadLimitBytes: config.uploadLimitBytes,
      authFailuresPerMinute: config.authFailuresPerMinute,
      trustProxy: config.trustProxy,
      expensiveConcurrency: config.expensiveConcurrency,
      expensiveBatchRows: config.expensiveBatchRows,
      fileSettings: config.files,
      importIsolation: { memoryMb: config.imports.memoryMb, timeoutMs: config.imports.timeoutMs },
      importsPerUser: config.imports.perUser,
      notify: { email, publicUrl: config.publicUrl },
      backupKey: () => readBackupKey(config.backupKey),
      google: options.google ?? (await googleClientOf(config)),
      mount: (app, services) => {
        app.use(
          '/addin',
          addinRoutes({
            publicUrl: config.publicUrl,
            officeJs: config.addin.officeJs,
            manifestId: config.addin.manifestId,
          }),
        );
        options.mount?.(app, services);
      },
    });
    await services.calendars.refresh();
    // Reads every remindable record on the day's first sweep, then only those written since.
    const reminderSweep = new ReminderSweep(store);
    /** What time decided: the calendar in force, then protections ended and lapses (R25, R31, R32). */
    const lifecycleSweep = async () => {
      await services.calendars.refresh();
      for (const warning of services.calendars.warningsToLog()) {
        options.logger.warn({ code: warning.code, details: warning.details }, warning.messageEn);
      }
      const r = await services.lifecycle.sweep();
      if (r.expired + r.voided > 0) options.logger.info(r, 'sweep');
    };
    /** What follows from it: expired import files, due reminders. */
    const followingSweeps = async () => {
      const filesExpired = await services.importFiles.sweep();
      if (filesExpired > 0) options.logger.info({ filesExpired }, 'sweep: expired import files deleted');
      const reminders = await reminderSweep.run({
        now: clock(),
        calendar: services.calendars.calendar(),
        policy: await services.registrations.policy(),
      });
      if (reminders.claimed > 0) options.logger.info(reminders, 'reminders');
    };
    const sweepFailed = (err: unknown) => options.logger.error({ err }, 'sweep failed');
    // Before the first request: the ends and lapses that came while the service was down are
    // written first, so no request reads or writes such a record as still protecting (requests
    // meanwhile get 503 service.starting). Bounded: a sweep still waiting (on a lock another
    // instance holds) after BAOBEI_START_SWEEP_SECONDS goes on while requests are answered;
    // the writes that could undo a lapse or act on an ended protection judge on the day anyway.
    const firstLifecycle = lifecycleSweep().then(
      () => true,
      (err: unknown) => {
        sweepFailed(err);
        return false;
      },
    );
    const inTime = await settledWithin(firstLifecycle, config.startSweepWaitSeconds * 1000);
    if (!inTime) {
      options.logger.warn(
        { code: 'sweep.start_slow', waitSeconds: config.startSweepWaitSeconds },
        'the first sweep is still running; answering requests meanwhile',
      );
    }
    server.off('request', starting);
    server.on('request', app);
    const port = (server.address() as AddressInfo).port;
    recordServiceUrl(config.dataDir, localUrl(config.host, port, config.tls !== undefined));
    const url = config.publicUrl ?? `${config.tls ? 'https' : 'http'}://localhost:${port}`;
    if (tokenFile) say(`首次启动：管理员令牌已写入 / first start, admin token written to ${tokenFile}`);
    say(`Baobei ${VERSION} 已启动 / listening: ${url} (store: ${store.kind}, data: ${config.dataDir})`);
    if (config.addin.officeJs === 'local') {
      options.logger.warn(
        { code: 'addin.office_js_local' },
        "BAOBEI_OFFICE_JS=local: the task pane loads the unmaintained npm copy of office.js (offline rigs only); real Excel hosts need Microsoft's CDN copy",
      );
    }

    // One sweep at a time: the timer's does not join a first sweep still waiting.
    let sweeping: Promise<void> | undefined;
    const track = (work: Promise<void>): Promise<void> => {
      const tracked = work.finally(() => {
        if (sweeping === tracked) sweeping = undefined;
      });
      sweeping = tracked;
      return tracked;
    };
    // The rest of the first sweep, then once, after the sweep has written the ends that came while
    // the service was down, the share catch-up: a failure leaves every read right (it follows the
    // day), so it is logged, not fatal.
    const firstSweep = track(
      firstLifecycle.then(async (swept) => {
        if (swept) await followingSweeps().catch(sweepFailed);
        try {
          const sharesCaughtUp = await services.lifecycle.catchUpShares();
          if (sharesCaughtUp > 0) options.logger.info({ sharesCaughtUp }, 'shares: partner_left caught up');
        } catch (err) {
          options.logger.error({ err }, 'share catch-up failed');
        }
      }),
    );
    if (inTime) await firstSweep;
    const sweep = () => {
      if (sweeping !== undefined) return;
      void track(lifecycleSweep().then(followingSweeps).catch(sweepFailed));
    };
    const timer = setInterval(sweep, config.sweepSeconds * 1000);
    timer.unref();
    // Google Sheets: every unpaused link, errors recorded on their link (sheetSync.ts).
    let syncing = false;
    const sheetsTimer = setInterval(() => {
      if (syncing) return;
      syncing = true;
      services.sheets
        .syncAll()
        .catch((err: unknown) => options.logger.error({ err }, 'sheets sync failed'))
        .finally(() => {
          syncing = false;
        });
    }, config.sheetsSyncSeconds * 1000);
    sheetsTimer.unref();
    const outbox = new OutboxWorker({
      store,
      clock,
      email,
      publicUrl: config.publicUrl ?? url,
      logger: options.logger,
      pollMs: config.outbox.pollMs,
      leaseMs: config.outbox.leaseMs,
      retryBaseMs: config.outbox.retryBaseMs,
      maxAttempts: config.outbox.maxAttempts,
    });
    outbox.start();

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        clearInterval(timer);
        clearInterval(sheetsTimer);
        // A sweep runs in a store write: let it end before the store closes.
        await sweeping;
        await outbox.stop();
        await email?.close();
        await closeServer();
        await store.close();
        await files.close();
      })());
    return { url, store, outbox, services, app, close };
  } catch (err) {
    await email?.close();
    await closeServer();
    await store.close();
    await files.close();
    throw err;
  }
}

/** Whether `work` settled within `ms` (it goes on either way). */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Re-keys the stored records when the identity rules changed (identityRekey.ts); logs counts only. */
async function rekeyAtStart(
  store: Store,
  keyring: Keyring,
  clock: () => Date,
  logger: Logger,
): Promise<void> {
  const started = Date.now();
  const result = await rekeyIfNeeded(store, keyring, {
    clock,
    onBatch: ({ checked, rekeyed }) => logger.info({ checked, rekeyed }, 'identity re-key: batch done'),
  });
  if (result === null) return;
  logger.info(
    {
      checked: result.checked,
      rekeyed: result.rekeyed,
      bans: result.bans,
      from: result.from,
      to: result.to,
      ms: Date.now() - started,
    },
    'identity re-key done',
  );
}

/**
 * Robots stored by administrators are checked at start against the current rules; one that no
 * longer passes is reported (redacted: never its URL token or secret) and skipped by the outbox.
 */
async function checkRobots(store: Store, logger: Logger): Promise<void> {
  const docs = await store.read((tx) => tx.listDocs(ROBOTS_COLLECTION));
  const valid = new Set((await store.read(loadRobots)).map((r) => r.id));
  for (const doc of docs) {
    if (!valid.has(doc.key))
      logger.warn({ robot: doc.key }, 'a configured robot is invalid and will not be used');
  }
  for (const robot of await store.read(loadRobots)) logger.debug({ robot: redactRobot(robot) }, 'robot');
}

/** The service account named by BAOBEI_GOOGLE_CREDENTIALS / GOOGLE_APPLICATION_CREDENTIALS, validated at start. */
async function googleClientOf(config: Config): Promise<GoogleSheetsClient | undefined> {
  if (config.googleCredentials === undefined) return undefined;
  const key = await loadServiceAccountKey(config.googleCredentials);
  return new GoogleSheetsClient({ auth: { serviceAccount: key } });
}

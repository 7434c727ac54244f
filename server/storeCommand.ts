/**
 * `baobei store copy`, `baobei backup FILE` and `baobei restore FILE`: the CLI side of
 * store/storeTransfer.ts and store/backupFile.ts. A backup of a running service is asked of the
 * service (POST /api/admin/backup: it holds the lowdb data dir); without one the store is opened
 * directly. Copy and restore write only through a staging place swapped in at the end.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DomainError, problem } from '../core/problem.js';
import type { Config } from './config.js';
import { keyringFromMasterKey, parseMasterKey, type Keyring } from './security/keyring.js';
import { openStore, openStoreAndFiles } from './service.js';
import { rekeyIfNeeded } from './services/identityRekey.js';
import { callService, findService, serviceError, serviceJson, serviceToken } from './serviceClient.js';
import { writeFileDurably } from './store/durableFile.js';
import { configuredLocation, locationOf, type LocationOptions } from './storeLocation.js';
import type { AuditEntry } from './store/store.js';
import { foreignSchemaProblem } from './store/foreignSchema.js';
import {
  checkBackupFraming,
  dataKeyCheck,
  decodeBackup,
  encodeBackup,
  readBackupKey,
  type BackupHeader,
} from './store/backupFile.js';
import {
  copyStore,
  readContent,
  locationText,
  storeAt,
  writeContent,
  type StoreLocation,
  type WriteSummary,
} from './store/storeTransfer.js';

/**
 * The data key, never created here: BAOBEI_KEY, else the key file of a data dir. A copy or restore
 * with a new key would hold identity hashes nothing can match again.
 */
export async function existingDataKey(
  config: Config,
  dataDirs: readonly string[],
): Promise<{ keyring: Keyring; fileText?: string }> {
  if (config.key !== undefined && config.key.trim() !== '') {
    return { keyring: keyringFromMasterKey(parseMasterKey(config.key)) };
  }
  for (const dir of dataDirs) {
    const file = path.join(dir, 'baobei.key');
    if (existsSync(file)) {
      const fileText = await readFile(file, 'utf8');
      return { keyring: keyringFromMasterKey(parseMasterKey(fileText)), fileText };
    }
  }
  throw new DomainError(
    problem(
      'store.key_missing',
      `需要数据密钥：设置 BAOBEI_KEY，或在数据目录中放入原来的 baobei.key（找过：${dataDirs.join('、') || '无'}）`,
      `The data key is needed: set BAOBEI_KEY, or have the original baobei.key in the data dir (looked in: ${dataDirs.join(', ') || 'none'})`,
      'BAOBEI_KEY',
    ),
  );
}

export async function runStoreCopy(
  config: Config,
  options: {
    from: 'lowdb' | 'postgres';
    to: 'lowdb' | 'postgres';
    dataDir?: string;
    pgUrl?: string;
    pgSchema?: string;
    toDataDir?: string;
    toPgUrl?: string;
    toPgSchema?: string;
    force: boolean;
  },
  say: (line: string) => void,
): Promise<WriteSummary> {
  const from = locationOf(options.from, options, config);
  const to = locationOf(
    options.to,
    {
      dataDir: options.toDataDir ?? options.dataDir,
      pgUrl: options.toPgUrl ?? options.pgUrl,
      pgSchema: options.toPgSchema ?? options.pgSchema,
    },
    config,
  );
  const dirs = [from, to].flatMap((l) => (l.kind === 'lowdb' ? [l.dataDir] : [config.dataDir]));
  const { keyring, fileText } = await existingDataKey(config, [...new Set(dirs)]);
  const now = new Date();
  const summary = await copyStore(from, to, keyring, {
    now,
    force: options.force,
    audit: cliAudit(now, 'store.copy', { from: from.kind, to: to.kind, force: options.force }),
    ...(fileText !== undefined ? { keyFileContent: fileText } : {}),
    onStage: (stage) =>
      say(
        {
          staged: '已写入暂存区 / staged',
          verified: '已逐条核对 / verified record by record',
          swapped: '已切换到目标 / swapped into place',
        }[stage],
      ),
  });
  printSummary(summary, say);
  if (to.kind === 'postgres' && fileText !== undefined) {
    say(
      '注意：PostgreSQL 上的服务须使用同一把数据密钥（BAOBEI_KEY 或同一个 baobei.key） / ' +
        'note: the service on PostgreSQL must run with the same data key (BAOBEI_KEY or the same baobei.key)',
    );
  }
  return summary;
}

function printSummary(summary: WriteSummary, say: (line: string) => void): void {
  for (const [name, n] of Object.entries(summary.counts)) say(`  ${name}: ${n}`);
  say(
    `逐条核对记录 ${summary.compared} 条，全部一致 / ${summary.compared} records compared one by one, all equal`,
  );
  if (summary.replacedKeptAs !== undefined) {
    say(
      `原目标已保留为 ${summary.replacedKeptAs} / the replaced target was kept as ${summary.replacedKeptAs}`,
    );
  }
}

/** Writes an encrypted backup to `file` (through a temp file: a cut-off download never replaces it). */
export async function runBackup(
  config: Config,
  file: string,
  via: { url?: string | undefined; token?: string | undefined },
): Promise<BackupHeader> {
  const target = path.resolve(file);
  // Whoever can read the backup folder would have the key too: the backup would protect nothing.
  if (
    config.backupKey?.variable === 'BAOBEI_BACKUP_KEY_FILE' &&
    path.dirname(path.resolve(config.backupKey.file)) === path.dirname(target)
  ) {
    throw new DomainError(
      problem(
        'backup.key_beside_file',
        `备份文件 ${file} 与备份密钥文件（BAOBEI_BACKUP_KEY_FILE）在同一目录，备份将得不到保护；请写到别处，未写入任何文件`,
        `The backup file ${file} would sit beside its backup key file (BAOBEI_BACKUP_KEY_FILE) and protect nothing; write it elsewhere (nothing was written)`,
        'file',
      ),
    );
  }
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.part`);
  const service =
    config.store === 'lowdb' || via.url !== undefined ? findService(config, via.url) : undefined;
  try {
    if (service) {
      const token = await serviceToken(config, via.token);
      const res = await callService(service, '/api/admin/backup', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      if (!res.ok) throw serviceError(res, await serviceJson(service, res));
      const bytes = Buffer.from(await res.arrayBuffer());
      // The key stays with the service: here the framing is checked (complete, ends with its final frame).
      const { header } = checkBackupFraming(bytes);
      try {
        await writeFileDurably(temp, bytes);
        await rename(temp, target);
      } catch (err) {
        throw backupFileError('write', file, err);
      }
      return header;
    }
    const key = await readBackupKey(config.backupKey);
    if (key === undefined) throw backupKeyMissing();
    await requireStore(configuredLocation(config));
    const { store, files, keyring } = await openStoreAndFiles(config, 'backup');
    try {
      const now = new Date();
      // R36: a backup reads every customer's data. The route audits it; taken here (PostgreSQL, or
      // no service running) it went unrecorded. First, as the route does, so the backup holds it.
      await store.appendAudit([
        {
          at: now.toISOString(),
          actor: 'cli',
          actorRole: 'system',
          action: 'backup',
          records: [],
          details: { via: 'cli' },
        },
      ]);
      const content = await readContent(store, files, now);
      const chunks = [
        ...encodeBackup(
          content,
          { createdAt: now.toISOString(), store: store.kind, dataKeyCheck: dataKeyCheck(keyring.hash) },
          key,
        ),
      ];
      await writeFileDurably(target, chunks).catch((err: unknown) => {
        throw backupFileError('write', file, err);
      });
      return checkBackupFraming(Buffer.concat(chunks)).header;
    } finally {
      await store.close();
      await files.close();
    }
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Restores a backup into an empty store. Every frame is decrypted and checked before anything is
 * written; the data key must be the one the backup's store used (its identity hashes depend on it).
 */
export async function runRestore(
  config: Config,
  file: string,
  options: LocationOptions & { to?: 'lowdb' | 'postgres' },
  say: (line: string) => void,
): Promise<WriteSummary> {
  const key = await readBackupKey(config.backupKey);
  if (key === undefined) throw backupKeyMissing();
  const bytes = await readFile(path.resolve(file)).catch((err: unknown) => {
    throw backupFileError('read', file, err);
  });
  const kind = options.to ?? restoreKind(options, config);
  const { header, content } = decodeBackup(bytes, key);
  say(`备份 / backup: ${header.createdAt} (${header.store})`);
  const location = locationOf(kind, options, config);
  const { keyring, fileText } = await existingDataKey(
    config,
    location.kind === 'lowdb' ? [location.dataDir, config.dataDir] : [config.dataDir],
  );
  if (dataKeyCheck(keyring.hash) !== header.dataKeyCheck) {
    throw new DomainError(
      problem(
        'backup.data_key_mismatch',
        '数据密钥（BAOBEI_KEY / baobei.key）不是做备份的存储所用的那把；未写入任何数据',
        'The data key (BAOBEI_KEY / baobei.key) is not the one of the store the backup was taken from; nothing was written',
        'BAOBEI_KEY',
      ),
    );
  }
  const now = new Date();
  const summary = await writeContent(location, keyring, content, {
    now,
    audit: cliAudit(now, 'restore', { backupCreatedAt: header.createdAt, backupStore: header.store }),
    ...(fileText !== undefined ? { keyFileContent: fileText } : {}),
  });
  printSummary(summary, say);
  return summary;
}

/** An audit entry for what the CLI does to a store as a whole (no person signed in: actor `cli`). */
function cliAudit(now: Date, action: string, details: Record<string, string | boolean>): AuditEntry {
  return { at: now.toISOString(), actor: 'cli', actorRole: 'system', action, records: [], details };
}

/**
 * Which kind of store a restore writes, from its options: --pg-url or --pg-schema mean PostgreSQL
 * (--pg-schema alone once restored into the lowdb data dir, the schema named left empty), --data-dir
 * lowdb, none the configured store. Both kinds at once are refused rather than one of them ignored.
 */
function restoreKind(options: LocationOptions, config: Config): 'lowdb' | 'postgres' {
  const pg = options.pgUrl !== undefined || options.pgSchema !== undefined;
  if (pg && options.dataDir !== undefined) {
    throw new DomainError(
      problem(
        'store.restore_target_ambiguous',
        '恢复只能指定一个目标：--data-dir（lowdb）或 --pg-url/--pg-schema（PostgreSQL）；未写入任何数据',
        'A restore takes one target: --data-dir (lowdb) or --pg-url/--pg-schema (PostgreSQL); nothing was written',
        'data-dir',
      ),
    );
  }
  if (pg) return 'postgres';
  if (options.dataDir !== undefined) return 'lowdb';
  return config.store;
}

/**
 * The backup file could not be read or written: the file and the reason a person can act on
 * (it is not there, its directory is not, it is a directory, no permission), not Node's errno text.
 */
function backupFileError(op: 'read' | 'write', file: string, err: unknown): DomainError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const [zh, en] =
    code === 'ENOENT'
      ? op === 'read'
        ? ['文件不存在', 'no such file']
        : ['所在目录不存在', 'its directory does not exist']
      : code === 'EISDIR'
        ? ['这是一个目录', 'it is a directory']
        : code === 'EACCES' || code === 'EPERM'
          ? ['没有权限', 'permission denied']
          : [code ?? String(err), code ?? String(err)];
  return new DomainError(
    op === 'read'
      ? problem(
          'backup.file_unreadable',
          `无法读取备份文件 ${file}：${zh}`,
          `Cannot read the backup file ${file}: ${en}`,
          'file',
        )
      : problem(
          'backup.file_unwritable',
          `无法写入备份文件 ${file}：${zh}；未留下任何文件`,
          `Cannot write the backup file ${file}: ${en}; nothing was left behind`,
          'file',
        ),
  );
}

function backupKeyMissing(): DomainError {
  return new DomainError(
    problem(
      'backup.key_missing',
      '需要备份密钥：设置 BAOBEI_BACKUP_KEY 或 BAOBEI_BACKUP_KEY_FILE',
      'A backup key is needed: set BAOBEI_BACKUP_KEY or BAOBEI_BACKUP_KEY_FILE',
      'BAOBEI_BACKUP_KEY',
    ),
  );
}

/**
 * For commands that work on the configured store as it is (rekey, a backup taken directly): opening
 * one creates it, so a mistyped data dir or schema must be refused first. A schema of another
 * application would get Baobei's tables among its own.
 */
async function requireStore(location: StoreLocation): Promise<void> {
  const found = await storeAt(location);
  if (found === 'store') return;
  if (found === 'foreign' && location.kind === 'postgres') throw foreignSchemaProblem(location);
  const where = locationText(location);
  throw new DomainError(
    problem(
      'store.not_found',
      `此处没有存储：${where}；未创建或改动任何数据（检查 BAOBEI_DATA_DIR / BAOBEI_STORE / BAOBEI_PG_SCHEMA）`,
      `There is no store at ${where}; nothing was created or changed (check BAOBEI_DATA_DIR / BAOBEI_STORE / BAOBEI_PG_SCHEMA)`,
      location.kind === 'lowdb' ? 'BAOBEI_DATA_DIR' : 'BAOBEI_PG_SCHEMA',
    ),
  );
}

/**
 * `baobei store rekey`: the identity re-key the service runs at start (services/identityRekey.ts),
 * run by an operator with the service stopped, to see it finish before serving. Prints counts only.
 */
export async function runRekey(
  config: Config,
  say: (line: string) => void,
  options: { force?: boolean } = {},
): Promise<void> {
  // Opening makes a new store (and key) where there is none: a mistyped data dir or schema would be
  // "re-keyed" with 0 records and the operator told it is done.
  await requireStore(configuredLocation(config));
  const { store, keyring } = await openStore(config, 'rekey');
  try {
    const started = Date.now();
    const result = await rekeyIfNeeded(store, keyring, {
      clock: () => new Date(),
      ...(options.force === true ? { force: true } : {}),
      onBatch: ({ checked, rekeyed }) => say(`已检查 / checked ${checked}, 已重算 / re-keyed ${rekeyed}`),
    });
    if (result === null) {
      say('身份键已是当前规则，无需重算 / identity keys already follow the current rules; nothing to do');
      return;
    }
    say(
      `身份键重算完成 / identity re-key done: ${result.checked} checked, ${result.rekeyed} re-keyed, ` +
        `${result.bans} bans re-filed, rules version ${result.to.version}, ${Date.now() - started} ms`,
    );
  } finally {
    await store.close();
  }
}

/**
 * POST /api/admin/backup (administrators): the store's content as of one moment, encrypted with the
 * backup key (backupFile.ts) and streamed as the response. The running service holds the lowdb data
 * dir, so backups of the embedded store are taken here; the snapshot costs no longer than a commit.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { DomainError, problem } from '../../core/problem.js';
import type { Keyring } from '../security/keyring.js';
import { requireRole } from '../services/actor.js';
import { dataKeyCheck, encodeBackup } from '../store/backupFile.js';
import type { FileVault } from '../store/fileVault.js';
import type { Store } from '../store/store.js';
import { countContent, readContent } from '../store/storeTransfer.js';
import { actor } from './auth.js';

export interface BackupRouteOptions {
  store: Store;
  files: FileVault;
  keyring: Keyring;
  /** The backup key (BAOBEI_BACKUP_KEY or its file), read when a backup is asked for; undefined when none is set. */
  backupKey: () => Promise<Buffer | undefined>;
  clock: () => Date;
}

export function backupRoutes(options: BackupRouteOptions): Router {
  const router = Router();
  router.post('/admin/backup', async (req, res) => {
    const who = actor(req);
    requireRole(who, ['admin'], '备份数据', 'take a backup');
    const key = await options.backupKey();
    if (key === undefined) {
      throw new DomainError(
        problem(
          'backup.not_configured',
          '服务未设置备份密钥（BAOBEI_BACKUP_KEY 或 BAOBEI_BACKUP_KEY_FILE），无法备份',
          'The service has no backup key (BAOBEI_BACKUP_KEY or BAOBEI_BACKUP_KEY_FILE); it cannot take a backup',
          'BAOBEI_BACKUP_KEY',
        ),
      );
    }
    const now = options.clock();
    // Audited first, so the backup holds its own entry and a restore compares equal to the source.
    await options.store.appendAudit([
      {
        at: now.toISOString(),
        actor: who.name,
        actorRole: who.role,
        action: 'backup',
        records: [],
        ...(who.requestId !== undefined ? { requestId: who.requestId } : {}),
      },
    ]);
    const content = await readContent(options.store, options.files, now);
    const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
    res.status(200);
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-disposition', `attachment; filename="baobei-${stamp}.bbk"`);
    res.setHeader('x-baobei-backup-records', String(countContent(content).records));
    const chunks = encodeBackup(
      content,
      {
        createdAt: now.toISOString(),
        store: options.store.kind,
        dataKeyCheck: dataKeyCheck(options.keyring.hash),
      },
      key,
    );
    // A failure mid-stream cuts the response short; the client sees no final frame and refuses the file.
    await pipeline(Readable.from(chunks), res);
  });
  return router;
}

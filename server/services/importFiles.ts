/**
 * What an import leaves behind: its JSON report and its annotated workbook, kept in the file vault
 * (sealed, outside the main store document), readable by the uploader and administrators, counted
 * against the uploader's quota, and deleted when they expire (dry runs sooner). Every creation,
 * download and deletion is in the audit trail.
 */
import { DomainError, problem, type Problem } from '../../core/problem.js';
import type { FileVault, VaultFile } from '../store/fileVault.js';
import type { AuditEntry, Store } from '../store/store.js';
import { SYSTEM_ACTOR, forbidden, type Actor } from './actor.js';

export interface FileSettings {
  /** Days a report and annotated workbook are kept (BAOBEI_FILE_RETENTION_DAYS). */
  retentionDays: number;
  /** Hours a dry run's files are kept (BAOBEI_DRY_RUN_RETENTION_HOURS). */
  dryRunRetentionHours: number;
  /** Sealed bytes one user may keep (BAOBEI_FILE_QUOTA_MB). */
  quotaBytes: number;
}

export const DEFAULT_FILE_SETTINGS: FileSettings = {
  retentionDays: 30,
  dryRunRetentionHours: 24,
  quotaBytes: 200 * 1024 * 1024,
};

/** What the report file holds besides the report: who made it and how. */
export interface KeptImport<R = unknown> {
  id: string;
  owner: string;
  fileName: string;
  mode: 'submit' | 'history';
  dryRun: boolean;
  createdAt: string;
  expiresAt: string;
  report: R;
  /** Why the import has no annotated workbook (its worker was stopped while writing it). */
  annotationProblem?: Problem;
}

const reportKey = (id: string) => `${id}.report`;
const annotatedKey = (id: string) => `${id}.xlsx`;

export class ImportFiles {
  constructor(
    private readonly deps: {
      vault: FileVault;
      store: Store;
      clock: () => Date;
      settings: FileSettings;
    },
  ) {}

  /** Before an import runs: refused when the uploader's kept files already fill the quota. */
  async ensureRoom(actor: Actor): Promise<void> {
    const used = (await this.deps.vault.list({ owner: actor.id })).reduce((n, f) => n + f.size, 0);
    if (used >= this.deps.settings.quotaBytes) {
      const mb = Math.round((this.deps.settings.quotaBytes / 1024 / 1024) * 10) / 10;
      throw new DomainError(
        problem(
          'import.quota_exceeded',
          `您保存的导入结果已达 ${mb} MB 的上限：删除旧的导入结果（DELETE /api/imports/{id}）或等待其过期`,
          `Your kept import results have reached the ${mb} MB quota: delete old ones (DELETE /api/imports/{id}) or wait for them to expire`,
          'file',
        ),
        { quotaBytes: this.deps.settings.quotaBytes, usedBytes: used },
      );
    }
  }

  /** Seals and keeps the report and the annotated workbook; returns when both are durable. */
  async keep<R>(
    actor: Actor,
    entry: Omit<KeptImport<R>, 'owner' | 'createdAt' | 'expiresAt'>,
    annotated: Uint8Array | undefined,
  ): Promise<KeptImport<R>> {
    const now = this.deps.clock();
    const hours = entry.dryRun
      ? this.deps.settings.dryRunRetentionHours
      : this.deps.settings.retentionDays * 24;
    const kept: KeptImport<R> = {
      ...entry,
      owner: actor.id,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + hours * 3_600_000).toISOString(),
    };
    const header = { owner: actor.id, createdAt: kept.createdAt, expiresAt: kept.expiresAt };
    const files: VaultFile[] = [];
    if (annotated) {
      files.push(
        await this.deps.vault.put(
          { ...header, key: annotatedKey(entry.id), kind: 'import.annotated' },
          annotated,
        ),
      );
    }
    // The report last: an import is found by its report, so it never points at a missing workbook.
    files.push(
      await this.deps.vault.put(
        { ...header, key: reportKey(entry.id), kind: 'import.report' },
        Buffer.from(JSON.stringify(kept)),
      ),
    );
    await this.audit(files.map((f) => this.entry(actor, 'file.create', f)));
    return kept;
  }

  /** The import's report, for its uploader or an administrator. */
  async report<R>(actor: Actor, id: string): Promise<KeptImport<R>> {
    await this.authorise(actor, reportKey(id));
    const opened = await this.deps.vault.open(reportKey(id));
    if (!opened) throw notFound();
    return JSON.parse(opened.bytes.toString('utf8')) as KeptImport<R>;
  }

  /** The annotated workbook decrypted for its uploader or an administrator; the download is audited. */
  async annotated<R>(actor: Actor, id: string): Promise<{ kept: KeptImport<R>; bytes: Buffer }> {
    const kept = await this.report<R>(actor, id);
    const opened = await this.deps.vault.open(annotatedKey(id));
    if (!opened) throw notFound();
    await this.audit([this.entry(actor, 'file.download', opened.file)]);
    return { kept, bytes: opened.bytes };
  }

  /** Deletes an import's files (its uploader or an administrator). */
  async remove(actor: Actor, id: string): Promise<void> {
    await this.authorise(actor, reportKey(id));
    const removed: VaultFile[] = [];
    for (const key of [reportKey(id), annotatedKey(id)]) {
      const file = await this.deps.vault.head(key);
      if (file && (await this.deps.vault.remove(key))) removed.push(file);
    }
    await this.audit(removed.map((f) => this.entry(actor, 'file.delete', f, { reason: 'request' })));
  }

  /** The sweep: deletes every file past its expiry. Returns how many went. */
  async sweep(): Promise<number> {
    const now = this.deps.clock().toISOString();
    const expired = await this.deps.vault.list({ expiredAt: now });
    const removed: VaultFile[] = [];
    for (const file of expired) if (await this.deps.vault.remove(file.key)) removed.push(file);
    await this.audit(
      removed.map((f) => ({
        ...this.entry(SYSTEM_ACTOR, 'file.delete', f, { reason: 'expired' }),
        actorRole: 'system',
      })),
    );
    return removed.length;
  }

  private async authorise(actor: Actor, key: string): Promise<VaultFile> {
    const file = await this.deps.vault.head(key);
    if (!file) throw notFound();
    if (file.owner !== actor.id && actor.role !== 'admin') {
      throw forbidden('读取他人的导入结果', "read someone else's import");
    }
    return file;
  }

  private entry(
    actor: Actor,
    action: string,
    file: VaultFile,
    extra: Record<string, string> = {},
  ): AuditEntry {
    return {
      at: this.deps.clock().toISOString(),
      actor: actor.name,
      actorRole: actor.role,
      action,
      records: [],
      ...(actor.requestId !== undefined ? { requestId: actor.requestId } : {}),
      details: {
        file: file.key,
        kind: file.kind,
        owner: file.owner,
        bytes: file.size,
        expiresAt: file.expiresAt,
        ...extra,
      },
    };
  }

  private async audit(entries: AuditEntry[]): Promise<void> {
    if (entries.length > 0) await this.deps.store.appendAudit(entries);
  }
}

function notFound(): DomainError {
  return new DomainError(
    problem('import.not_found', '导入记录不存在（或已过期删除）', 'No such import (or it expired)'),
  );
}

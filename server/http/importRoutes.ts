/**
 * POST /api/imports: upload a legacy sheet (multipart `file`, fields `mode`, `dryRun`, `sheet`),
 * get the JSON report and a link to the annotated workbook, which only the uploader and
 * administrators can download.
 */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { DomainError, problem } from '../../core/problem.js';
import { importSheet, type ImportReport } from '../import/importSheet.js';
import type { WorkCalendar } from '../../core/calendar.js';
import type { Keyring } from '../security/keyring.js';
import type { RegistrationService } from '../services/registrationService.js';
import type { Store } from '../store/store.js';
import { forbidden } from '../services/actor.js';
import { actor } from './auth.js';
import { parseOrThrow } from './errors.js';

export const importFieldsSchema = z
  .object({
    mode: z.enum(['submit', 'history']).default('submit'),
    dryRun: z
      .enum(['true', 'false', '1', '0'])
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
    sheet: z.string().min(1).max(100).optional(),
  })
  .strict();

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export function importRoutes(deps: {
  store: Store;
  keyring: Keyring;
  clock: () => Date;
  calendar?: () => WorkCalendar;
  registrations: RegistrationService;
  uploadLimitBytes: number;
}): Router {
  const router = Router();
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: deps.uploadLimitBytes, files: 1, fields: 10 },
  });
  const limitMb = Math.round((deps.uploadLimitBytes / 1024 / 1024) * 10) / 10;

  router.post('/imports', (req, res, next) => {
    upload.single('file')(req, res, (err: unknown) => {
      if (err instanceof multer.MulterError) {
        if (err.code === 'LIMIT_FILE_SIZE') {
          next(
            new DomainError(
              problem(
                'upload.too_large',
                `文件超过 ${limitMb} MB 的上限`,
                `The file is larger than the ${limitMb} MB limit`,
                'file',
              ),
            ),
          );
          return;
        }
        next(
          new DomainError(
            problem(
              'request.invalid',
              `上传格式不正确：${err.message}`,
              `Bad upload: ${err.message}`,
              err.field,
            ),
          ),
        );
        return;
      }
      next(err);
    });
  });

  router.post('/imports', async (req, res) => {
    const a = actor(req);
    const fields = parseOrThrow(importFieldsSchema, req.body ?? {});
    const file = req.file;
    if (!file) {
      throw new DomainError(
        problem('request.invalid', '缺少上传文件（字段 file）', 'No file uploaded (field "file")', 'file'),
      );
    }
    // multer hands over the raw bytes of the name; browsers send UTF-8.
    const fileName = Buffer.from(file.originalname, 'latin1').toString('utf8');
    const { report, annotated } = await importSheet(
      file.buffer,
      { fileName, mode: fields.mode, dryRun: fields.dryRun, sheet: fields.sheet },
      {
        store: deps.store,
        keyring: deps.keyring,
        clock: deps.clock,
        actor: a,
        ...(deps.calendar ? { calendar: deps.calendar() } : {}),
      },
    );
    const id = randomUUID();
    await deps.store.putBlob(`import-${id}.xlsx`, annotated);
    await deps.store.write((tx) =>
      tx.putImport({
        id,
        owner: a.id,
        createdAt: deps.clock().toISOString(),
        fileName,
        mode: fields.mode,
        dryRun: fields.dryRun,
        report,
      }),
    );
    await deps.registrations.audit(
      a,
      fields.dryRun ? 'import.check' : 'import.create',
      recordNumbers(report),
      {
        rows: report.summary.rows,
      },
    );
    res
      .status(fields.dryRun ? 200 : 201)
      .json({ id, ...report, annotatedUrl: `/api/imports/${id}/annotated.xlsx` });
  });

  router.get('/imports/:id', async (req, res) => {
    const entry = await ownImport(req.params['id'], actor(req));
    res.json({
      id: entry.id,
      ...(entry.report as ImportReport),
      annotatedUrl: `/api/imports/${entry.id}/annotated.xlsx`,
    });
  });

  router.get('/imports/:id/annotated.xlsx', async (req, res) => {
    const a = actor(req);
    const entry = await ownImport(req.params['id'], a);
    const bytes = await deps.store.getBlob(`import-${entry.id}.xlsx`);
    if (!bytes) throw notFound();
    await deps.registrations.audit(a, 'import.download', recordNumbers(entry.report as ImportReport));
    const base = entry.fileName.replace(/\.(xlsx|xlsm|csv|txt)$/i, '');
    res.setHeader('Content-Type', XLSX_TYPE);
    res.setHeader(
      'Content-Disposition',
      `attachment; filename*=UTF-8''${encodeURIComponent(`${base}.checked.xlsx`)}`,
    );
    res.send(bytes);
  });

  async function ownImport(id: string | undefined, a: ReturnType<typeof actor>) {
    const parsedId = z.uuid().safeParse(id);
    if (!parsedId.success) throw notFound();
    const entry = await deps.store.read((tx) => tx.getImport(parsedId.data));
    if (!entry) throw notFound();
    if (entry.owner !== a.id && a.role !== 'admin')
      throw forbidden('下载他人的导入结果', "download someone else's import");
    return entry;
  }

  return router;
}

function notFound(): DomainError {
  return new DomainError(problem('import.not_found', '导入记录不存在', 'No such import'));
}

function recordNumbers(report: ImportReport): string[] {
  return report.rows.flatMap((r) => (r.registrationNo !== undefined ? [r.registrationNo] : []));
}

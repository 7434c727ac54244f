/**
 * POST /api/imports: upload a legacy sheet (multipart `file`, fields `mode`, `dryRun`, `sheet`),
 * get the JSON report and a link to the annotated workbook, which only the uploader and
 * administrators can download. The file is read in a worker (importIsolation.ts); the report and
 * the workbook are kept sealed in the file vault until they expire (ImportFiles).
 */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { DomainError, problem, type Problem } from '../../core/problem.js';
import type { ImportReport } from '../import/importSheet.js';
import type { WorkCalendar } from '../../core/calendar.js';
import type { Keyring } from '../security/keyring.js';
import type { RegistrationService } from '../services/registrationService.js';
import type { ImportFiles, KeptImport } from '../services/importFiles.js';
import type { Store } from '../store/store.js';
import { importIsolated, type IsolationLimits } from '../importIsolation.js';
import { actor } from './auth.js';
import { encodingUnsupported, errorBody, isClientAbort, parseOrThrow } from './errors.js';

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
  files: ImportFiles;
  uploadLimitBytes: number;
  isolation: IsolationLimits;
  /** Imports one user may have running at once (BAOBEI_IMPORTS_PER_USER). */
  importsPerUser: number;
}): Router {
  const router = Router();
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: deps.uploadLimitBytes, files: 1, fields: 10 },
  });
  const limitMb = Math.round((deps.uploadLimitBytes / 1024 / 1024) * 10) / 10;
  const running = new Map<string, number>();

  // Before a byte of the upload is read: an encoding the form parser reads, one user's imports at
  // once, and room in their quota.
  router.post('/imports', async (req, res, next) => {
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    // The form parser reads the body as it comes: a compressed one would be read as garbage.
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
      res.status(415).json(errorBody(encodingUnsupported(encoding), String(req.id)));
      return;
    }
    const a = actor(req);
    const count = running.get(a.id) ?? 0;
    if (count >= deps.importsPerUser) {
      res.setHeader('Retry-After', '5');
      throw new DomainError(
        problem(
          'import.user_busy',
          `您已有 ${count} 个导入正在进行，请等它完成后再上传`,
          `You already have ${count} import(s) running; wait for it to finish before uploading another`,
        ),
        { limit: deps.importsPerUser },
      );
    }
    await deps.files.ensureRoom(a);
    running.set(a.id, count + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (running.get(a.id) ?? 1) - 1;
      if (left <= 0) running.delete(a.id);
      else running.set(a.id, left);
    };
    res.once('close', release);
    res.once('finish', release);
    next();
  });

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
        next(new DomainError(uploadRefused(err)));
        return;
      }
      // The form parser's own refusals (a malformed part header, a missing boundary, a cut-off
      // form) are the sender's fault; a client that went away is left to the error handler.
      if (err instanceof Error && !isClientAbort(err, req) && isMalformedForm(err)) {
        next(
          new DomainError(
            problem(
              'request.invalid',
              '上传的表单格式不正确（multipart/form-data）',
              'The uploaded form is malformed (multipart/form-data)',
              'file',
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
    const fileName = displayFileName(file.originalname);
    const bytes = file.buffer;
    // The request no longer holds the upload: the worker gets the only reference it needs.
    req.file = undefined;
    const {
      report,
      bytes: annotated,
      problem: annotationProblem,
    } = await importIsolated(
      bytes,
      { fileName, mode: fields.mode, dryRun: fields.dryRun, sheet: fields.sheet },
      {
        store: deps.store,
        keyring: deps.keyring,
        clock: deps.clock,
        actor: a,
        ...(deps.calendar ? { calendar: deps.calendar() } : {}),
      },
      deps.isolation,
    );
    const id = randomUUID();
    const kept = await deps.files.keep(
      a,
      {
        id,
        fileName,
        mode: fields.mode,
        dryRun: fields.dryRun,
        report,
        ...(annotationProblem ? { annotationProblem } : {}),
      },
      annotated,
    );
    await deps.registrations.audit(
      a,
      fields.dryRun ? 'import.check' : 'import.create',
      recordNumbers(report),
      {
        rows: report.summary.rows,
      },
    );
    res.status(fields.dryRun ? 200 : 201).json(importBody(kept));
  });

  router.get('/imports/:id', async (req, res) => {
    const kept = await deps.files.report<ImportReport>(actor(req), importId(req.params['id']));
    res.json(importBody(kept));
  });

  router.get('/imports/:id/annotated.xlsx', async (req, res) => {
    const a = actor(req);
    const { kept, bytes } = await deps.files.annotated<ImportReport>(a, importId(req.params['id']));
    await deps.registrations.audit(a, 'import.download', recordNumbers(kept.report));
    const base = kept.fileName.replace(/\.(xlsx|xlsm|csv|txt)$/i, '');
    res.setHeader('Content-Type', XLSX_TYPE);
    res.setHeader(
      'Content-Disposition',
      `attachment; filename*=UTF-8''${encodeURIComponent(`${base}.checked.xlsx`)}`,
    );
    res.send(bytes);
  });

  router.delete('/imports/:id', async (req, res) => {
    await deps.files.remove(actor(req), importId(req.params['id']));
    res.status(204).end();
  });

  return router;
}

/** busboy's and multer's messages for a form that is not well-formed multipart. */
function isMalformedForm(err: Error): boolean {
  return /^(Malformed|Unexpected end of form|Multipart: |Part terminated|Missing|Boundary not found|Unexpected end of multipart)/i.test(
    err.message,
  );
}

/** An import as answered: the report, and the link to its workbook — or why there is none. */
function importBody(kept: KeptImport<ImportReport>): unknown {
  return {
    id: kept.id,
    ...kept.report,
    ...(kept.annotationProblem
      ? { annotationError: kept.annotationProblem }
      : { annotatedUrl: `/api/imports/${kept.id}/annotated.xlsx` }),
    expiresAt: kept.expiresAt,
  };
}

function importId(id: string | undefined): string {
  const parsed = z.uuid().safeParse(id);
  if (!parsed.success) throw notFound();
  return parsed.data;
}

/** Longest display name kept, in characters (a name is shown, never used as a path). */
export const MAX_FILE_NAME_LENGTH = 200;

/**
 * The name shown for an upload (in the report and the download's name). Only the last path segment is
 * kept, control characters (NUL, CR, LF…) and bidi overrides are dropped, and it is cut to a
 * length a sheet cell and a header can hold. Never used to build a path.
 */
export function displayFileName(raw: string): string {
  // A plain `filename="…"` arrives as its bytes read as latin1 (browsers send UTF-8): decode them.
  // An RFC 5987 `filename*=UTF-8''…` arrives decoded already (characters above U+00FF), as does a
  // name whose bytes are not UTF-8: both are kept as they came.
  const asUtf8 = /[\u0100-\uffff]/.test(raw) ? raw : Buffer.from(raw, 'latin1').toString('utf8');
  const decoded = asUtf8.includes('\ufffd') ? raw : asUtf8;
  const lastSegment = decoded.split(/[\\/]/).pop() ?? '';
  const cleaned = lastSegment
    .replace(/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]/gu, '')
    .trim()
    .replace(/^\.+/, '');
  const cut = [...cleaned].slice(0, MAX_FILE_NAME_LENGTH).join('');
  return cut === '' ? 'upload' : cut;
}

function notFound(): DomainError {
  return new DomainError(problem('import.not_found', '导入记录不存在', 'No such import'));
}

function recordNumbers(report: ImportReport): string[] {
  return report.rows.flatMap((r) => (r.registrationNo !== undefined ? [r.registrationNo] : []));
}

/**
 * multer's refusals of a form (its messages are English only) in both languages, saying what to
 * send instead; the limits are those set above (one file, ten fields).
 */
function uploadRefused(err: multer.MulterError): Problem {
  const field = err.field;
  const [zh, en] =
    err.code === 'LIMIT_FILE_COUNT'
      ? ['一次只能上传一个文件（字段 file）', 'Upload one file at a time (field "file")']
      : err.code === 'LIMIT_UNEXPECTED_FILE'
        ? [
            `文件须放在字段 file 中，收到的是字段 ${field ?? ''}`,
            `The file must be sent in the field "file", not "${field ?? ''}"`,
          ]
        : err.code === 'LIMIT_FIELD_COUNT' || err.code === 'LIMIT_PART_COUNT'
          ? [
              '表单字段过多：只需 file、mode、dryRun 和 sheet',
              'Too many form fields: only file, mode, dryRun and sheet are read',
            ]
          : err.code === 'LIMIT_FIELD_KEY' || err.code === 'LIMIT_FIELD_VALUE'
            ? ['表单字段名或字段值过长', 'A form field name or value is too long']
            : [`上传的表单格式不正确（${err.code}）`, `The uploaded form is malformed (${err.code})`];
  return problem('request.invalid', zh, en, field ?? 'file');
}

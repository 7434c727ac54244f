/**
 * POST /api/imports over real HTTP: multipart upload → the JSON report and a link to the annotated
 * workbook, which only the uploader and administrators can download; a clear 413 over the size
 * limit; 400 for a missing file or a bad mode.
 */
import { readFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../server/import/importSheet.js';
import { STANDARD_HEADER, csvOf, standardCsvRows, standardRow, xlsxOf } from '../fixtures/legacySheets.js';
import { SAMPLES_DIR } from '../fixtures/sampleRows.js';
import { startTestService, type TestService } from '../support/testService.js';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

interface ErrorBody {
  error: { code: string; message: string; messageEn: string; field?: string };
}
type UploadBody = ImportReport & { id: string; annotatedUrl: string } & Partial<ErrorBody>;

async function post(
  service: TestService,
  token: string,
  parts: { file?: { bytes: Uint8Array; name: string }; fields?: Record<string, string> },
): Promise<{ status: number; body: UploadBody }> {
  const form = new FormData();
  if (parts.file) form.set('file', new Blob([new Uint8Array(parts.file.bytes)]), parts.file.name);
  for (const [k, v] of Object.entries(parts.fields ?? {})) form.set(k, v);
  const res = await fetch(`${service.url}/api/imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as UploadBody };
}

function download(service: TestService, token: string, url: string): Promise<Response> {
  return fetch(`${service.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
}

describe('POST /api/imports', () => {
  let service: TestService;
  let wang: string;
  let li: string;
  const csv = Buffer.from(csvOf([STANDARD_HEADER, ...standardCsvRows(3, '王磊')]));

  beforeAll(async () => {
    service = await startTestService();
    wang = await service.user('王磊', 'sales', '华东一部');
    li = await service.user('李娜', 'sales', '华东一部');
  });
  afterAll(async () => {
    await service.close();
  });

  it('answers a multipart upload with the report and a link to the annotated workbook', async () => {
    const bytes = await readFile(`${SAMPLES_DIR}v2-bilingual.xlsx`);
    const res = await post(service, service.adminToken, {
      file: { bytes, name: 'v2-bilingual.xlsx' },
      fields: { mode: 'submit', dryRun: 'true' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ file: 'v2-bilingual.xlsx', headerRow: 1, mode: 'submit', dryRun: true });
    expect(res.body.summary.rows).toBe(36);
    expect(res.body.annotatedUrl).toBe(`/api/imports/${res.body.id}/annotated.xlsx`);
  });

  it('keeps a UTF-8 file name and gives the uploader and administrators — nobody else — the workbook', async () => {
    const res = await post(service, wang, {
      file: { bytes: csv, name: '老台账.csv' },
      fields: { dryRun: 'false' },
    });
    expect(res.status).toBe(201);
    expect(res.body.file).toBe('老台账.csv');
    expect(res.body.rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);

    const own = await download(service, wang, res.body.annotatedUrl);
    expect(own.status).toBe(200);
    expect(own.headers.get('content-type')).toContain(XLSX_TYPE);
    expect(own.headers.get('content-disposition')).toContain(encodeURIComponent('老台账.checked.xlsx'));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await own.arrayBuffer());
    expect(wb.worksheets[0]!.getCell('H1').value).toBe('报备编号');
    expect(wb.worksheets[0]!.getCell('H2').value).toBe(res.body.rows[0]!.registrationNo);

    const other = await download(service, li, res.body.annotatedUrl);
    expect(other.status).toBe(403);
    expect(((await other.json()) as ErrorBody).error.code).toBe('auth.forbidden');

    const admin = await download(service, service.adminToken, res.body.annotatedUrl);
    expect(admin.status).toBe(200);
    expect(
      Buffer.from(await admin.arrayBuffer())
        .subarray(0, 2)
        .toString('latin1'),
    ).toBe('PK');

    // The report is there to read again, by the same people.
    expect((await service.api(wang).get(`/api/imports/${res.body.id}`)).status).toBe(200);
    expect((await service.api(li).get(`/api/imports/${res.body.id}`)).status).toBe(403);
  });

  it('404 for an unknown import', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await download(service, service.adminToken, `/api/imports/${id}/annotated.xlsx`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as ErrorBody).error.code).toBe('import.not_found');
    }
  });

  it('400 without a file', async () => {
    const res = await post(service, wang, { fields: { mode: 'submit' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'request.invalid', field: 'file' });
  });

  it('400 for a bad mode, naming the field', async () => {
    const res = await post(service, wang, {
      file: { bytes: csv, name: 'a.csv' },
      fields: { mode: 'everything' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'request.invalid', field: 'mode' });
    expect(res.body.error!.messageEn).toContain('mode');
  });

  it('reads an upload whose one sheet is named Sample when it holds a register header; one of instructions alone is 422 import.no_header', async () => {
    const register = await xlsxOf([{ name: 'Sample', rows: [STANDARD_HEADER, standardRow(0, '王磊')] }]);
    const res = await post(service, wang, {
      file: { bytes: register, name: '客户.xlsx' },
      fields: { dryRun: 'true' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect([res.body.sheet, res.body.summary.rows]).toEqual(['Sample', 1]);

    const instructions = await xlsxOf([
      { name: '填表说明', rows: [['填表说明'], ['1. 客户名称须与营业执照一致']] },
    ]);
    const refused = await post(service, wang, { file: { bytes: instructions, name: '说明.xlsx' } });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'import.no_header' });
    expect(refused.body.error?.message).toContain('“填表说明”');
  });

  it('422 with the import error for a file that is no sheet', async () => {
    const res = await post(service, wang, { file: { bytes: Buffer.alloc(0), name: 'empty.csv' } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'import.unreadable' });
  });
});

describe('POST /api/imports over the upload limit', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ env: { BAOBEI_UPLOAD_LIMIT_MB: '0.05' } });
  });
  afterAll(async () => {
    await service.close();
  });

  it('413 upload.too_large for a file over the limit; a file under it goes through', async () => {
    const limit = 0.05 * 1024 * 1024;
    const big = Buffer.from(csvOf([STANDARD_HEADER, ...standardCsvRows(3, '管理员')]) + '#'.repeat(limit));
    expect(big.length).toBeGreaterThan(limit);
    const res = await post(service, service.adminToken, { file: { bytes: big, name: 'big.csv' } });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'upload.too_large', field: 'file' });
    expect(res.body.error!.message).toContain('MB');

    const small = Buffer.from(csvOf([STANDARD_HEADER, ...standardCsvRows(3, '管理员')]));
    expect(
      (await post(service, service.adminToken, { file: { bytes: small, name: 'small.csv' } })).status,
    ).toBe(201);
  });
});

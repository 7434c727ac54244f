/**
 * HTTP edges of uploads and bodies (issue 14): unsupported charsets and content encodings are a
 * coded 415, odd multipart file names (`../`, NUL, CR/LF, 10 KB) are accepted under a sanitised
 * display name or refused with 400 — never a 500.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_HEADER, csvOf, standardCsvRows } from '../fixtures/legacySheets.js';
import { startTestService, type ErrorBody, type TestService } from '../support/testService.js';

let s: TestService;
let wang: string;

beforeAll(async () => {
  s = await startTestService();
  wang = await s.user('王磊', 'sales');
});
afterAll(async () => {
  await s.close();
});

/** A raw request: the bytes of the body exactly as given (no client escaping the file name). */
function raw(
  method: string,
  p: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; body: Record<string, unknown> & Partial<ErrorBody> }> {
  const url = new URL(s.url + p);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        headers: { authorization: `Bearer ${wang}`, 'content-length': String(body.length), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const BOUNDARY = '----baobei-edge-boundary';
const CSV = Buffer.from(csvOf([STANDARD_HEADER, ...standardCsvRows(2, '王磊')]));

/**
 * A multipart body whose file part's `filename` parameter is exactly these bytes — or, as RFC 5987
 * `filename*`, these bytes percent-encoded (which carries NUL, CR and LF past the header syntax).
 */
function multipart(fileNameBytes: Buffer, extended = false): Buffer {
  const param = extended
    ? `filename*=UTF-8''${[...fileNameBytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`
    : `filename="${fileNameBytes.toString('latin1')}"`;
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="dryRun"\r\n\r\ntrue\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; `),
    Buffer.from(param, 'latin1'),
    Buffer.from(`\r\nContent-Type: text/csv\r\n\r\n`),
    CSV,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

function uploadNamed(name: Buffer, headers: Record<string, string> = {}, extended = false) {
  return raw(
    'POST',
    '/api/imports',
    { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...headers },
    multipart(name, extended),
  );
}

describe('charsets and content encodings', () => {
  it('JSON in an unsupported charset is 415 request.charset_unsupported, naming it', async () => {
    const res = await raw(
      'POST',
      '/api/check',
      { 'content-type': 'application/json; charset=latin1' },
      Buffer.from(JSON.stringify({ rows: [] })),
    );
    expect(res.status).toBe(415);
    expect(res.body.error).toMatchObject({ code: 'request.charset_unsupported' });
    expect(res.body.error?.messageEn).toMatch(/latin1/);
    expect(res.body.error?.message).toMatch(/UTF-8/);
  });

  it('a body in an unsupported content encoding (zstd) is 415 request.encoding_unsupported — JSON or upload', async () => {
    const json = await raw(
      'POST',
      '/api/check',
      { 'content-type': 'application/json', 'content-encoding': 'zstd' },
      Buffer.from('(not really zstd)'),
    );
    expect(json.status).toBe(415);
    expect(json.body.error).toMatchObject({ code: 'request.encoding_unsupported' });
    expect(json.body.error?.messageEn).toMatch(/zstd/);
    const upload = await uploadNamed(Buffer.from('a.csv'), { 'content-encoding': 'gzip' });
    expect(upload.status).toBe(415);
    expect(upload.body.error).toMatchObject({ code: 'request.encoding_unsupported' });
  });

  it('identity and UTF-8 are accepted as they always were', async () => {
    const res = await raw(
      'POST',
      '/api/check',
      { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'identity' },
      Buffer.from(JSON.stringify({ rows: [] })),
    );
    expect(res.status).not.toBe(415);
    expect(res.status).toBeLessThan(500);
  });
});

describe('multipart file names', () => {
  it('a name with ../ keeps only its last segment', async () => {
    const res = await uploadNamed(Buffer.from('../../etc/台账.csv'));
    expect(res.status).toBe(200);
    expect(res.body['file']).toBe('台账.csv');
  });

  it('a raw NUL in the part header is a malformed form: 400, not 500', async () => {
    const res = await uploadNamed(Buffer.from('a\u0000b.csv'));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'request.invalid', field: 'file' });
  });

  it('NUL, CR/LF, other controls and bidi overrides carried in filename* are dropped from the shown name', async () => {
    const res = await uploadNamed(Buffer.from('a\u0000b\r\nX-Evil: 1\u0007c\u202e.csv'), {}, true);
    expect(res.status).toBe(200);
    expect(res.body['file']).toBe('abX-Evil: 1c.csv');
    // The download's name is built from it, percent-encoded.
    const download = await fetch(`${s.url}/api/imports/${String(res.body['id'])}/annotated.xlsx`, {
      headers: { authorization: `Bearer ${wang}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename*=UTF-8''${encodeURIComponent('abX-Evil: 1c.checked.xlsx')}`,
    );
  });

  it('a raw CR/LF inside the quoted name: 400 or a sanitised name, never a 500', async () => {
    const res = await uploadNamed(Buffer.from('a\r\nX-Evil: 1\r\nb.csv'));
    expect([200, 400]).toContain(res.status);
    if (res.status === 200) expect(String(res.body['file'])).not.toMatch(/[\r\n]/);
    else expect(res.body.error?.code).toBe('request.invalid');
  });

  it('a 10 KB name is cut to 200 characters', async () => {
    const res = await uploadNamed(Buffer.from(`${'名'.repeat(3400)}.csv`));
    expect(res.status).toBe(200);
    expect([...String(res.body['file'])]).toHaveLength(200);
  });

  it('a name that is only dots and slashes: shown as "upload", or 400 when the form parser drops it', async () => {
    const dots = await uploadNamed(Buffer.from('../..'));
    expect([200, 400]).toContain(dots.status);
    if (dots.status === 200) expect(dots.body['file']).toBe('upload');
    else expect(dots.body.error?.code).toBe('request.invalid');
    const res = await uploadNamed(Buffer.from('../../...'), {}, true);
    expect(res.status).toBe(200);
    expect(res.body['file']).toBe('upload');
  });

  it('a malformed multipart body is 400, not 500', async () => {
    const res = await raw(
      'POST',
      '/api/imports',
      { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nno-colon-header\r\n\r\nx\r\n--${BOUNDARY}--\r\n`,
      ),
    );
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('request.invalid');
  });
});

describe("the form parser's refusals, in both languages", () => {
  function form(parts: { name: string; file?: string; body: string }[]): Buffer {
    return Buffer.concat([
      ...parts.map(({ name, file, body }) =>
        Buffer.from(
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"` +
            (file !== undefined ? `; filename="${file}"\r\nContent-Type: text/csv` : '') +
            `\r\n\r\n${body}\r\n`,
        ),
      ),
      Buffer.from(`--${BOUNDARY}--\r\n`),
    ]);
  }
  const post = (body: Buffer) =>
    raw('POST', '/api/imports', { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, body);

  it('two files, a file in another field, too many fields: 400 saying what to send (was multer English in the Chinese text)', async () => {
    const csv = CSV.toString('utf8');
    const two = await post(
      form([
        { name: 'file', file: 'a.csv', body: csv },
        { name: 'file', file: 'b.csv', body: csv },
      ]),
    );
    expect(two.status).toBe(400);
    expect(two.body.error).toMatchObject({
      code: 'request.invalid',
      field: 'file',
      message: '一次只能上传一个文件（字段 file）',
      messageEn: 'Upload one file at a time (field "file")',
    });
    const elsewhere = await post(form([{ name: 'upload', file: 'a.csv', body: csv }]));
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error).toMatchObject({ field: 'upload' });
    expect(elsewhere.body.error?.message).toBe('文件须放在字段 file 中，收到的是字段 upload');
    const fields = await post(form(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, body: 'x' }))));
    expect(fields.status).toBe(400);
    expect(fields.body.error?.message).toMatch(/^表单字段过多/);
    for (const res of [two, elsewhere, fields])
      expect(res.body.error?.message).not.toMatch(/[A-Za-z]{4,} [a-z]+/);
  });
});

/**
 * The fake Google server's own tests: each rule it claims to enforce, exercised through the real
 * googleapis client (per-API rootUrl, an OAuth2 client with a fixed token, or google-auth-library's
 * JWT client with a throw-away RSA key), never raw fetch.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sheets, type sheets_v4 } from 'googleapis/build/src/apis/sheets/index.js';
import { drive, type drive_v3 } from 'googleapis/build/src/apis/drive/index.js';
import { JWT, OAuth2Client } from 'google-auth-library';
import { FakeGoogle, SCOPES, type FakeGoogleOptions } from './fakeGoogle.js';

const SA = 'sync@baobei-test.iam.gserviceaccount.com';
const OTHER = 'other@another-project.iam.gserviceaccount.com';
const HEADER = ['客户名称', '客户类型', '联系电话', '报备日期'];

interface Clients {
  sheets: sheets_v4.Sheets;
  drive: drive_v3.Drive;
}

function clientsFor(fake: FakeGoogle, token: string): Clients {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token });
  // retry: false — googleapis would otherwise retry GETs itself and hide calls from the log.
  return {
    sheets: sheets({ version: 'v4', auth, rootUrl: fake.url, retry: false }),
    drive: drive({ version: 'v3', auth, rootUrl: fake.url, retry: false }),
  };
}

interface Failure {
  status: number;
  error: {
    code: number;
    message: string;
    status?: string;
    details?: Record<string, unknown>[];
    errors?: { reason: string }[];
  };
}

async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (e) {
    const err = e as { status?: number; response?: { status: number; data: { error: Failure['error'] } } };
    if (err.response === undefined) throw e;
    return { status: err.response.status, error: err.response.data.error };
  }
  throw new Error('expected the call to fail');
}

describe('fake Google server', () => {
  let t = Date.UTC(2026, 2, 5, 1, 0, 30);
  let fake: FakeGoogle;
  let api: Clients;
  let id: string;

  async function startFake(options: FakeGoogleOptions = {}): Promise<void> {
    await fake?.close();
    fake = await new FakeGoogle({ now: () => t, ...options }).start();
    api = clientsFor(fake, fake.issueToken(SA));
    id = fake.createSpreadsheet({
      title: '报备登记表',
      sheets: [
        {
          title: '报备 表',
          values: [
            HEADER,
            ['上海华信科技有限公司', '企业', '013812345678', '2026-03-05'],
            ['北京远航', '企业', '13912345678', '2026/3/6'],
            ['杭州云栖', '个人', '', ''],
          ],
        },
        { title: 'Notes', sheetId: 77 },
      ],
      sharedWith: { [SA]: 'writer' },
    });
  }

  beforeEach(async () => {
    t = Date.UTC(2026, 2, 5, 1, 0, 30);
    await startFake();
  });

  afterEach(async () => {
    await fake.close();
  });

  async function rowKeys(): Promise<{ value: string; row: number }[]> {
    const res = await api.sheets.spreadsheets.developerMetadata.search({
      spreadsheetId: id,
      requestBody: { dataFilters: [{ developerMetadataLookup: { metadataKey: 'baobei.rowKey' } }] },
    });
    return (res.data.matchedDeveloperMetadata ?? [])
      .map((m) => ({
        value: m.developerMetadata?.metadataValue ?? '',
        row: m.developerMetadata?.location?.dimensionRange?.startIndex ?? -1,
      }))
      .sort((a, b) => a.row - b.row);
  }

  async function tagRows(rows: number[]): Promise<void> {
    await api.sheets.spreadsheets.batchUpdate({
      spreadsheetId: id,
      requestBody: {
        requests: rows.map((r) => ({
          createDeveloperMetadata: {
            developerMetadata: {
              metadataKey: 'baobei.rowKey',
              metadataValue: `k${r}`,
              visibility: 'PROJECT',
              location: { dimensionRange: { sheetId: 0, dimension: 'ROWS', startIndex: r, endIndex: r + 1 } },
            },
          },
        })),
      },
    });
  }

  describe('Drive files.get', () => {
    it('returns version (an int64 string) and modifiedTime, and the version grows with every change', async () => {
      const first = await api.drive.files.get({ fileId: id, fields: 'version,modifiedTime' });
      expect(first.data).toEqual({ version: '1', modifiedTime: new Date(t).toISOString() });
      t += 5_000;
      fake.editCells(id, '报备 表', 'A6', [['新客户']]);
      await api.sheets.spreadsheets.values.batchUpdate({
        spreadsheetId: id,
        requestBody: { valueInputOption: 'RAW', data: [{ range: "'报备 表'!E1", values: [['状态']] }] },
      });
      const after = await api.drive.files.get({ fileId: id, fields: 'version,modifiedTime' });
      expect(Number(after.data.version)).toBe(3);
      expect(after.data.modifiedTime).toBe(new Date(t).toISOString());
      // Reads do not change it.
      await api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ["'报备 表'!A1:D"] });
      expect((await api.drive.files.get({ fileId: id, fields: 'version' })).data.version).toBe('3');
    });

    it('answers the default resource without fields, and 400 for an unknown field', async () => {
      const res = await api.drive.files.get({ fileId: id });
      expect(res.data).toEqual({
        kind: 'drive#file',
        id,
        name: '报备登记表',
        mimeType: 'application/vnd.google-apps.spreadsheet',
      });
      const bad = await failure(api.drive.files.get({ fileId: id, fields: 'version,colour' }));
      expect(bad.status).toBe(400);
      expect(bad.error.errors?.[0]?.reason).toBe('invalidParameter');
    });

    it('answers 404 notFound for a missing file and for one not shared with the caller', async () => {
      const missing = await failure(api.drive.files.get({ fileId: 'nope', fields: 'version' }));
      expect(missing.status).toBe(404);
      expect(missing.error.errors?.[0]?.reason).toBe('notFound');
      fake.unshare(id, SA);
      const hidden = await failure(api.drive.files.get({ fileId: id, fields: 'version' }));
      expect(hidden.status).toBe(404);
      expect(hidden.error.message).toBe(`File not found: ${id}.`);
    });
  });

  describe('spreadsheets.get', () => {
    it('lists sheets with their properties and honours a fields mask', async () => {
      const res = await api.sheets.spreadsheets.get({
        spreadsheetId: id,
        includeGridData: false,
        fields: 'sheets(properties(sheetId,title,gridProperties))',
      });
      expect(res.data).toEqual({
        sheets: [
          {
            properties: { sheetId: 0, title: '报备 表', gridProperties: { rowCount: 1000, columnCount: 26 } },
          },
          {
            properties: { sheetId: 77, title: 'Notes', gridProperties: { rowCount: 1000, columnCount: 26 } },
          },
        ],
      });
      const full = await api.sheets.spreadsheets.get({ spreadsheetId: id });
      expect(full.data.properties?.title).toBe('报备登记表');
      expect(full.data.sheets?.[0]?.data).toBeUndefined();
    });

    it('shows protected ranges and sheet metadata, and grid data (fills, notes) for ranges when asked', async () => {
      await api.sheets.spreadsheets.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          requests: [
            {
              addProtectedRange: {
                protectedRange: {
                  range: { sheetId: 0, startColumnIndex: 4, endColumnIndex: 8 },
                  description: '报备结果',
                  warningOnly: true,
                },
              },
            },
            {
              createDeveloperMetadata: {
                developerMetadata: {
                  metadataKey: 'baobei.link',
                  metadataValue: 'L1',
                  visibility: 'PROJECT',
                  location: { sheetId: 0 },
                },
              },
            },
            {
              repeatCell: {
                range: {
                  sheetId: 0,
                  startRowIndex: 1,
                  endRowIndex: 2,
                  startColumnIndex: 0,
                  endColumnIndex: 2,
                },
                cell: { userEnteredFormat: { backgroundColor: { red: 1, green: 0.78, blue: 0.81 } } },
                fields: 'userEnteredFormat.backgroundColor',
              },
            },
            {
              updateCells: {
                start: { sheetId: 0, rowIndex: 2, columnIndex: 2 },
                rows: [{ values: [{ note: '电话号码无效' }] }],
                fields: 'note',
              },
            },
          ],
        },
      });
      const res = await api.sheets.spreadsheets.get({
        spreadsheetId: id,
        fields: 'sheets(properties(title),protectedRanges,developerMetadata)',
      });
      const sheet = res.data.sheets?.[0];
      expect(sheet?.protectedRanges?.[0]).toMatchObject({
        description: '报备结果',
        warningOnly: true,
        range: { sheetId: 0, startColumnIndex: 4, endColumnIndex: 8 },
      });
      expect(sheet?.developerMetadata?.[0]).toMatchObject({
        metadataKey: 'baobei.link',
        metadataValue: 'L1',
        location: { locationType: 'SHEET', sheetId: 0 },
      });
      expect(res.data.sheets?.[1]).toEqual({ properties: { title: 'Notes' } });

      const grid = await api.sheets.spreadsheets.get({
        spreadsheetId: id,
        ranges: ["'报备 表'!A2:C3"],
        includeGridData: true,
      });
      expect(grid.data.sheets).toHaveLength(1);
      const rows = grid.data.sheets?.[0]?.data?.[0]?.rowData ?? [];
      expect(rows[0]?.values?.[0]?.userEnteredFormat?.backgroundColor).toEqual({
        red: 1,
        green: 0.78,
        blue: 0.81,
      });
      expect(rows[0]?.values?.[0]?.formattedValue).toBe('上海华信科技有限公司');
      expect(rows[1]?.values?.[2]?.note).toBe('电话号码无效');
    });
  });

  describe('values.batchGet', () => {
    it('reads quoted sheet names with UNFORMATTED_VALUE and SERIAL_NUMBER: numbers stay numbers, dates are serials', async () => {
      const res = await api.sheets.spreadsheets.values.batchGet({
        spreadsheetId: id,
        ranges: ["'报备 表'!A1:Z", 'Notes!A1:B2'],
        valueRenderOption: 'UNFORMATTED_VALUE',
        dateTimeRenderOption: 'SERIAL_NUMBER',
        majorDimension: 'ROWS',
      });
      const [main, notes] = res.data.valueRanges ?? [];
      expect(main?.range).toBe("'报备 表'!A1:Z1000");
      expect(main?.values).toEqual([
        HEADER,
        // '013812345678' typed into a cell becomes the number 13812345678; 2026-03-05 is serial 46086.
        ['上海华信科技有限公司', '企业', 13812345678, 46086],
        ['北京远航', '企业', 13912345678, 46087],
        // Trailing empty cells are left out.
        ['杭州云栖', '个人'],
      ]);
      // An empty range has no `values` at all.
      expect(notes).toEqual({ range: 'Notes!A1:B2', majorDimension: 'ROWS' });
    });

    it('renders FORMATTED_VALUE (the default) as text and FORMATTED_STRING dates', async () => {
      const res = await api.sheets.spreadsheets.values.batchGet({
        spreadsheetId: id,
        ranges: ["'报备 表'!C2:D2"],
      });
      expect(res.data.valueRanges?.[0]?.values).toEqual([['13812345678', '2026-03-05']]);
      const dates = await api.sheets.spreadsheets.values.batchGet({
        spreadsheetId: id,
        ranges: ["'报备 表'!D2"],
        valueRenderOption: 'UNFORMATTED_VALUE',
        dateTimeRenderOption: 'FORMATTED_STRING',
      });
      expect(dates.data.valueRanges?.[0]?.values).toEqual([['2026-03-05']]);
    });

    it('keeps interior empty rows as [] and drops trailing ones; matches sheet names regardless of case', async () => {
      fake.editCells(id, 'Notes', 'B3', [['x']]);
      const res = await api.sheets.spreadsheets.values.batchGet({
        spreadsheetId: id,
        ranges: ['notes!A1:C10', 'Notes'],
        valueRenderOption: 'UNFORMATTED_VALUE',
      });
      expect(res.data.valueRanges?.[0]?.values).toEqual([[], [], ['', 'x']]);
      expect(res.data.valueRanges?.[1]?.range).toBe('Notes!A1:Z1000');
    });

    it('reads by columns with majorDimension COLUMNS', async () => {
      const res = await api.sheets.spreadsheets.values.batchGet({
        spreadsheetId: id,
        ranges: ["'报备 表'!A1:B3"],
        majorDimension: 'COLUMNS',
      });
      expect(res.data.valueRanges?.[0]?.values).toEqual([
        ['客户名称', '上海华信科技有限公司', '北京远航'],
        ['客户类型', '企业', '企业'],
      ]);
    });

    it('answers 400 for a missing tab, bad notation and a range past the grid', async () => {
      const missing = await failure(
        api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ['报备!A1:Z'] }),
      );
      expect(missing).toMatchObject({
        status: 400,
        error: { status: 'INVALID_ARGUMENT', message: 'Unable to parse range: 报备!A1:Z' },
      });
      const bad = await failure(
        api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ["'报备 表'!A1:B2:C3"] }),
      );
      expect(bad.error.message).toMatch(/^Unable to parse range/);
      const past = await failure(
        api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ["'报备 表'!A1:AB3"] }),
      );
      expect(past.error.message).toBe(
        "Range ('报备 表'!A1:AB3) exceeds grid limits. Max rows: 1000, max columns: 26",
      );
    });
  });

  describe('values.batchUpdate', () => {
    async function read(range: string, render: 'UNFORMATTED_VALUE' | 'FORMULA' = 'UNFORMATTED_VALUE') {
      const res = await api.sheets.spreadsheets.values.batchGet({
        spreadsheetId: id,
        ranges: [range],
        valueRenderOption: render,
      });
      return res.data.valueRanges?.[0]?.values;
    }

    it('RAW stores text as typed; USER_ENTERED parses numbers, dates, booleans and formulas like a person typing', async () => {
      const values = [['0123', '=1+1', '2026-03-05', 'TRUE', "'0123"]];
      const res = await api.sheets.spreadsheets.values.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          valueInputOption: 'RAW',
          data: [{ range: 'Notes!A1', values }],
        },
      });
      expect(res.data).toMatchObject({
        totalUpdatedCells: 5,
        responses: [{ updatedRange: 'Notes!A1:E1', updatedRows: 1, updatedColumns: 5 }],
      });
      expect(await read('Notes!A1:E1')).toEqual([['0123', '=1+1', '2026-03-05', 'TRUE', "'0123"]]);
      await api.sheets.spreadsheets.values.batchUpdate({
        spreadsheetId: id,
        requestBody: { valueInputOption: 'USER_ENTERED', data: [{ range: 'Notes!A2:E2', values }] },
      });
      // The fake stores formulas without evaluating them: #ERROR! unless read with FORMULA.
      expect(await read('Notes!A2:E2')).toEqual([[123, '#ERROR!', 46086, true, '0123']]);
      expect((await read('Notes!B2', 'FORMULA'))?.[0]).toEqual(['=1+1']);
    });

    it('skips null, clears on "" and keeps the cell format', async () => {
      await api.sheets.spreadsheets.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          requests: [
            {
              repeatCell: {
                range: { sheetId: 0, startRowIndex: 1, endRowIndex: 2 },
                cell: { userEnteredFormat: { backgroundColor: { green: 1 } } },
                fields: 'userEnteredFormat.backgroundColor',
              },
            },
          ],
        },
      });
      await api.sheets.spreadsheets.values.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          valueInputOption: 'RAW',
          data: [{ range: "'报备 表'!A2:C2", values: [[null, '', '138']] }],
        },
      });
      expect(await read("'报备 表'!A2:D2")).toEqual([['上海华信科技有限公司', '', '138', 46086]]);
      expect(fake.cell(id, '报备 表', 'B2').background).toEqual({ green: 1 });
    });

    it('requires valueInputOption, refuses data outside its range or the grid, and applies nothing when one range fails', async () => {
      const noOption = await failure(
        api.sheets.spreadsheets.values.batchUpdate({
          spreadsheetId: id,
          requestBody: { data: [{ range: 'Notes!A1', values: [['x']] }] },
        }),
      );
      expect(noOption.error.message).toBe("'valueInputOption' is required but not specified");
      const tooWide = await failure(
        api.sheets.spreadsheets.values.batchUpdate({
          spreadsheetId: id,
          requestBody: {
            valueInputOption: 'RAW',
            data: [{ range: 'Notes!A1:B1', values: [['a', 'b', 'c']] }],
          },
        }),
      );
      expect(tooWide.error.message).toBe(
        'Requested writing within range [Notes!A1:B1], but tried writing to column [C]',
      );
      const version = fake.version(id);
      const pastGrid = await failure(
        api.sheets.spreadsheets.values.batchUpdate({
          spreadsheetId: id,
          requestBody: {
            valueInputOption: 'RAW',
            data: [
              { range: 'Notes!A1', values: [['first']] },
              { range: 'Notes!A1000', values: [['x'], ['y']] },
            ],
          },
        }),
      );
      expect(pastGrid.error.message).toBe(
        'Range (Notes!A1000:A1001) exceeds grid limits. Max rows: 1000, max columns: 26',
      );
      expect(await read('Notes!A1')).toBeUndefined();
      expect(fake.version(id)).toBe(version);
    });
  });

  describe('spreadsheets.batchUpdate', () => {
    it('applies colours, notes, warning-only protection, validation and row metadata, with Google’s replies', async () => {
      const res = await api.sheets.spreadsheets.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          requests: [
            {
              repeatCell: {
                range: {
                  sheetId: 0,
                  startRowIndex: 1,
                  endRowIndex: 2,
                  startColumnIndex: 0,
                  endColumnIndex: 8,
                },
                cell: { userEnteredFormat: { backgroundColor: { red: 0.78, green: 0.94, blue: 0.81 } } },
                fields: 'userEnteredFormat.backgroundColor',
              },
            },
            {
              updateCells: {
                range: {
                  sheetId: 0,
                  startRowIndex: 2,
                  endRowIndex: 3,
                  startColumnIndex: 2,
                  endColumnIndex: 3,
                },
                rows: [{ values: [{ note: '手机号应为 11 位' }] }],
                fields: 'note',
              },
            },
            {
              addProtectedRange: {
                protectedRange: {
                  range: { sheetId: 0, startColumnIndex: 4, endColumnIndex: 8 },
                  warningOnly: true,
                  description: '结果列',
                },
              },
            },
            {
              setDataValidation: {
                range: { sheetId: 0, startRowIndex: 1, startColumnIndex: 1, endColumnIndex: 2 },
                rule: {
                  condition: {
                    type: 'ONE_OF_LIST',
                    values: [{ userEnteredValue: '企业' }, { userEnteredValue: '个人' }],
                  },
                  strict: true,
                  showCustomUi: true,
                },
              },
            },
            {
              createDeveloperMetadata: {
                developerMetadata: {
                  metadataKey: 'baobei.rowKey',
                  metadataValue: 'r1',
                  visibility: 'PROJECT',
                  location: { dimensionRange: { sheetId: 0, dimension: 'ROWS', startIndex: 1, endIndex: 2 } },
                },
              },
            },
          ],
        },
      });
      const replies = res.data.replies ?? [];
      expect(replies).toHaveLength(5);
      expect(replies[0]).toEqual({});
      expect(replies[2]?.addProtectedRange?.protectedRange?.protectedRangeId).toEqual(expect.any(Number));
      expect(replies[4]?.createDeveloperMetadata?.developerMetadata).toMatchObject({
        metadataKey: 'baobei.rowKey',
        metadataValue: 'r1',
        visibility: 'PROJECT',
        location: {
          locationType: 'ROW',
          dimensionRange: { sheetId: 0, dimension: 'ROWS', startIndex: 1, endIndex: 2 },
        },
      });
      expect(fake.cell(id, '报备 表', 'H2').background).toEqual({ red: 0.78, green: 0.94, blue: 0.81 });
      expect(fake.cell(id, '报备 表', 'C3').note).toBe('手机号应为 11 位');
      expect(fake.cell(id, '报备 表', 'B500').validation).toMatchObject({
        condition: { type: 'ONE_OF_LIST' },
        strict: true,
      });
      expect(fake.cell(id, '报备 表', 'B1').validation).toBeNull();
      expect(fake.protectedRanges(id, '报备 表')).toHaveLength(1);
      expect(fake.rowMetadata(id, '报备 表', 2)).toMatchObject([
        { metadataKey: 'baobei.rowKey', metadataValue: 'r1' },
      ]);
    });

    it('an empty note clears the note: the cell shows none and the grid returns none', async () => {
      const note = (text: string) => ({
        updateCells: {
          range: { sheetId: 0, startRowIndex: 2, endRowIndex: 3, startColumnIndex: 2, endColumnIndex: 3 },
          rows: [{ values: [{ note: text }] }],
          fields: 'note',
        },
      });
      await api.sheets.spreadsheets.batchUpdate({
        spreadsheetId: id,
        requestBody: { requests: [note('旧')] },
      });
      await api.sheets.spreadsheets.batchUpdate({ spreadsheetId: id, requestBody: { requests: [note('')] } });
      expect(fake.cell(id, '报备 表', 'C3').note).toBeNull();
      expect(fake.cell(id, '报备 表', 'C3').value).toBe(13912345678);
      const grid = await api.sheets.spreadsheets.get({
        spreadsheetId: id,
        ranges: ["'报备 表'!C3"],
        fields: 'sheets(data(rowData(values(note))))',
      });
      expect(grid.data.sheets?.[0]?.data?.[0]?.rowData?.[0]?.values?.[0]?.note).toBeUndefined();
    });

    it('is atomic: one bad request fails the whole batch with Google’s 400 and changes nothing', async () => {
      const version = fake.version(id);
      const bad = await failure(
        api.sheets.spreadsheets.batchUpdate({
          spreadsheetId: id,
          requestBody: {
            requests: [
              {
                repeatCell: {
                  range: { sheetId: 0, startRowIndex: 0, endRowIndex: 1 },
                  cell: { note: 'x' },
                  fields: 'note',
                },
              },
              {
                createDeveloperMetadata: {
                  developerMetadata: { metadataKey: 'k', visibility: 'PROJECT', location: { sheetId: 0 } },
                },
              },
              {
                repeatCell: {
                  range: { sheetId: 999, startRowIndex: 0, endRowIndex: 1 },
                  cell: { note: 'y' },
                  fields: 'note',
                },
              },
            ],
          },
        }),
      );
      expect(bad).toMatchObject({
        status: 400,
        error: {
          status: 'INVALID_ARGUMENT',
          message: 'Invalid requests[2].repeatCell: No grid with id: 999',
        },
      });
      expect(fake.cell(id, '报备 表', 'A1').note).toBeNull();
      expect(fake.allMetadata(id)).toEqual([]);
      expect(fake.version(id)).toBe(version);
    });

    it('refuses malformed requests as Google does', async () => {
      const run = (request: sheets_v4.Schema$Request) =>
        failure(
          api.sheets.spreadsheets.batchUpdate({ spreadsheetId: id, requestBody: { requests: [request] } }),
        );
      expect((await run({ repeatCell: { range: { sheetId: 0 }, cell: { note: 'x' } } })).error.message).toBe(
        'Invalid requests[0].repeatCell: At least one field must be specified.',
      );
      expect(
        (
          await run({
            repeatCell: { range: { sheetId: 0, endRowIndex: 1001 }, cell: { note: 'x' }, fields: 'note' },
          })
        ).error.message,
      ).toMatch(/^Invalid requests\[0\]\.repeatCell: Range \('报备 表'!A1:Z1001\) exceeds grid limits/);
      expect(
        (
          await run({
            repeatCell: {
              range: { sheetId: 0 },
              cell: { userEnteredFormat: { backgroundColor: { red: 2 } } },
              fields: 'userEnteredFormat',
            },
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await run({
            addProtectedRange: {
              protectedRange: { range: { sheetId: 0 }, warningOnly: true, editors: { users: [SA] } },
            },
          })
        ).error.message,
      ).toBe('Invalid requests[0].addProtectedRange: Editors are not supported with warningOnly protection.');
      expect(
        (
          await run({
            createDeveloperMetadata: { developerMetadata: { metadataKey: 'k', location: { sheetId: 0 } } },
          })
        ).error.message,
      ).toMatch(/visibility/);
      expect(
        (
          await run({
            createDeveloperMetadata: {
              developerMetadata: {
                metadataKey: 'k',
                visibility: 'PROJECT',
                location: { dimensionRange: { sheetId: 0, dimension: 'ROWS', startIndex: 1, endIndex: 5 } },
              },
            },
          })
        ).error.message,
      ).toMatch(/single row or column/);
      expect(
        (
          await run({
            setDataValidation: { range: { sheetId: 0 }, rule: { condition: { type: 'ONE_OF_LIST' } } },
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await run({
            deleteDimension: { range: { sheetId: 77, dimension: 'ROWS', startIndex: 0, endIndex: 1000 } },
          })
        ).error.message,
      ).toMatch(/can't delete all the rows/);
      expect((await run({ frobnicate: {} } as sheets_v4.Schema$Request)).error.message).toMatch(
        /Unknown name "frobnicate"/,
      );
      expect(
        (await run({ repeatCell: {}, updateCells: {} } as sheets_v4.Schema$Request)).error.message,
      ).toMatch(/Oneof field 'kind' is already set/);
      // A request Sheets has but the fake does not model is a loud 501, never a silent success.
      expect((await run({ mergeCells: { range: { sheetId: 0 } } })).status).toBe(501);
    });

    it('grows the grid with appendDimension and insertDimension (writes past it are refused until then)', async () => {
      const write = () =>
        api.sheets.spreadsheets.values.batchUpdate({
          spreadsheetId: id,
          requestBody: { valueInputOption: 'RAW', data: [{ range: 'Notes!A1001', values: [['x']] }] },
        });
      expect((await failure(write())).status).toBe(400);
      await api.sheets.spreadsheets.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          requests: [
            { appendDimension: { sheetId: 77, dimension: 'ROWS', length: 10 } },
            { insertDimension: { range: { sheetId: 77, dimension: 'COLUMNS', startIndex: 0, endIndex: 2 } } },
          ],
        },
      });
      await write();
      expect(fake.sheetProperties(id, 'Notes')).toMatchObject({ rowCount: 1010, columnCount: 28 });
    });

    it('protects non-warning ranges from callers who are not editors', async () => {
      const ownerToken = fake.issueToken('owner@example.com');
      const owner = clientsFor(fake, ownerToken);
      await owner.sheets.spreadsheets.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          requests: [
            {
              addProtectedRange: {
                protectedRange: { range: { sheetId: 77, startRowIndex: 0, endRowIndex: 1 } },
              },
            },
          ],
        },
      });
      const blocked = await failure(
        api.sheets.spreadsheets.values.batchUpdate({
          spreadsheetId: id,
          requestBody: { valueInputOption: 'RAW', data: [{ range: 'Notes!A1', values: [['x']] }] },
        }),
      );
      expect(blocked.error.message).toMatch(/^You are trying to edit a protected cell or object/);
    });

    it('refuses protected ranges and validation rules the Sheets reference forbids, and applies none of the batch', async () => {
      const run = (request: sheets_v4.Schema$Request) =>
        failure(
          api.sheets.spreadsheets.batchUpdate({
            spreadsheetId: id,
            // A valid request first: the bad one must undo it (atomic batch).
            requestBody: {
              requests: [
                {
                  addProtectedRange: {
                    protectedRange: { range: { sheetId: 77 }, warningOnly: true, description: 'ok' },
                  },
                },
                request,
              ],
            },
          }),
        );
      const message = async (request: sheets_v4.Schema$Request) => (await run(request)).error.message;
      const whole = { sheetId: 0 };
      const column = { sheetId: 0, startRowIndex: 1, startColumnIndex: 1, endColumnIndex: 2 };

      // ProtectedRange: only one of range / namedRangeId / tableId; unprotected ranges on protected sheets only.
      expect(
        await message({ addProtectedRange: { protectedRange: { range: whole, namedRangeId: 'n1' } } }),
      ).toBe('Invalid requests[1].addProtectedRange: Only one of range, namedRangeId or tableId may be set.');
      expect(await message({ addProtectedRange: { protectedRange: { warningOnly: true } } })).toBe(
        'Invalid requests[1].addProtectedRange: A range, namedRangeId or tableId is required.',
      );
      expect(
        await message({
          addProtectedRange: {
            protectedRange: { range: { sheetId: 0, startColumnIndex: 4 }, unprotectedRanges: [column] },
          },
        }),
      ).toBe(
        'Invalid requests[1].addProtectedRange: Unprotected ranges are only supported on protected sheets.',
      );
      expect(
        await message({
          addProtectedRange: { protectedRange: { range: whole, unprotectedRanges: [], note: 'x' } },
        } as sheets_v4.Schema$Request),
      ).toMatch(/Unknown name "note"/);
      expect(
        await message({
          addProtectedRange: { protectedRange: { range: whole, warningOnly: 'yes' } },
        } as unknown as sheets_v4.Schema$Request),
      ).toMatch(/protectedRange\.warningOnly/);

      // DataValidationRule: a list needs values; DATE_IS_VALID takes none; no relative dates; only
      // condition types data validation supports; typed flags.
      expect(
        await message({ setDataValidation: { range: column, rule: { condition: { type: 'ONE_OF_LIST' } } } }),
      ).toMatch(/ONE_OF_LIST condition requires at least one value/);
      expect(
        await message({
          setDataValidation: {
            range: column,
            rule: { condition: { type: 'ONE_OF_LIST', values: [{}] } },
          },
        }),
      ).toMatch(/userEnteredValue must be set/);
      expect(
        await message({
          setDataValidation: {
            range: column,
            rule: { condition: { type: 'DATE_IS_VALID', values: [{ userEnteredValue: '2026-01-01' }] } },
          },
        }),
      ).toMatch(/DATE_IS_VALID condition must not have values/);
      expect(
        await message({
          setDataValidation: {
            range: column,
            rule: { condition: { type: 'DATE_BEFORE', values: [{ relativeDate: 'TODAY' }] } },
          },
        }),
      ).toMatch(/relativeDate values are not supported in data validation/);
      expect(
        await message({
          setDataValidation: { range: column, rule: { condition: { type: 'NOT_BLANK' } } },
        }),
      ).toMatch(/NOT_BLANK is not supported/);
      expect(
        await message({
          setDataValidation: {
            range: column,
            rule: { condition: { type: 'DATE_IS_VALID' }, strict: 'no' },
          },
        } as unknown as sheets_v4.Schema$Request),
      ).toMatch(/rule\.strict/);
      expect(
        await message({
          setDataValidation: {
            range: column,
            rule: { condition: { type: 'DATE_IS_VALID' }, message: '日期' },
          },
        } as unknown as sheets_v4.Schema$Request),
      ).toMatch(/Unknown name "message"/);

      // Nothing of any refused batch stayed: the valid first request was undone each time.
      expect(fake.protectedRanges(id, 'Notes')).toEqual([]);

      // The shapes the link sends are accepted as they are.
      await api.sheets.spreadsheets.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          requests: [
            {
              addProtectedRange: {
                protectedRange: {
                  range: { sheetId: 0, startRowIndex: 0, startColumnIndex: 4, endColumnIndex: 8 },
                  warningOnly: true,
                  description: '结果列',
                },
              },
            },
            {
              setDataValidation: {
                range: column,
                rule: {
                  condition: { type: 'DATE_IS_VALID' },
                  inputMessage: '请输入日期，如 2026-03-05',
                  strict: false,
                  showCustomUi: false,
                },
              },
            },
          ],
        },
      });
      expect(fake.protectedRanges(id, '报备 表')).toMatchObject([
        { warningOnly: true, description: '结果列' },
      ]);
      expect(fake.cell(id, '报备 表', 'B9').validation).toMatchObject({
        condition: { type: 'DATE_IS_VALID' },
        strict: false,
      });
    });
  });

  describe('developer metadata follows its row', () => {
    it('moves down when rows are inserted above it and up when rows above are deleted', async () => {
      await tagRows([1, 2, 3]);
      fake.insertRows(id, '报备 表', 2, 2); // two rows above 上海华信
      expect(await rowKeys()).toEqual([
        { value: 'k1', row: 3 },
        { value: 'k2', row: 4 },
        { value: 'k3', row: 5 },
      ]);
      fake.deleteRows(id, '报备 表', 1, 1); // the header
      expect(await rowKeys()).toEqual([
        { value: 'k1', row: 2 },
        { value: 'k2', row: 3 },
        { value: 'k3', row: 4 },
      ]);
      const values = fake.values(id, '报备 表');
      expect(values[2]?.[0]).toBe('上海华信科技有限公司');
    });

    it('refuses a metadataId already in use, and frees it when its row is deleted', async () => {
      const create = (row: number) =>
        api.sheets.spreadsheets.batchUpdate({
          spreadsheetId: id,
          requestBody: {
            requests: [
              {
                createDeveloperMetadata: {
                  developerMetadata: {
                    metadataId: 4242,
                    metadataKey: 'baobei.rowKey',
                    visibility: 'PROJECT',
                    location: {
                      dimensionRange: { sheetId: 0, dimension: 'ROWS', startIndex: row, endIndex: row + 1 },
                    },
                  },
                },
              },
            ],
          },
        });
      await create(1);
      expect((await failure(create(2))).error.message).toBe(
        'Invalid requests[0].createDeveloperMetadata: Developer metadata with ID 4242 already exists.',
      );
      fake.deleteRows(id, '报备 表', 2, 1);
      await create(2);
      expect(fake.rowMetadata(id, '报备 表', 3).map((m) => m.metadataId)).toEqual([4242]);
    });

    it('disappears with its deleted row', async () => {
      await tagRows([1, 2, 3]);
      fake.deleteRows(id, '报备 表', 3, 1); // 北京远航 (row 3, index 2)
      expect(await rowKeys()).toEqual([
        { value: 'k1', row: 1 },
        { value: 'k3', row: 2 },
      ]);
    });

    it('moves with its row when the range is sorted, through the API or by a person', async () => {
      await tagRows([1, 2, 3]);
      fake.sortRows(id, '报备 表', { fromRow: 2, column: 'A' }); // 北京远航, 杭州云栖, 上海华信
      const after = fake.values(id, '报备 表').map((r) => r[0]);
      expect(after.slice(1)).toEqual(['北京远航', '杭州云栖', '上海华信科技有限公司']);
      expect(await rowKeys()).toEqual([
        { value: 'k2', row: 1 },
        { value: 'k3', row: 2 },
        { value: 'k1', row: 3 },
      ]);
      await api.sheets.spreadsheets.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          requests: [
            {
              sortRange: {
                range: { sheetId: 0, startRowIndex: 1, endRowIndex: 4 },
                sortSpecs: [{ dimensionIndex: 1, sortOrder: 'DESCENDING' }],
              },
            },
          ],
        },
      });
      // Descending by 客户类型 in pinyin order (企业 qǐ after 个人 gè); equal rows keep their order.
      const types = fake
        .values(id, '报备 表')
        .slice(1)
        .map((r) => r[1]);
      expect(types).toEqual(['企业', '企业', '个人']);
      expect((await rowKeys()).map((k) => k.value)).toEqual(['k2', 'k1', 'k3']);
    });

    it('comes back with the grid: spreadsheets.get rowMetadata[].developerMetadata, for the whole tab or one column', async () => {
      await tagRows([1, 3]);
      const fields =
        'sheets(properties(sheetId,title),data(startRow,startColumn,' +
        'rowMetadata(developerMetadata(metadataKey,metadataValue)),rowData(values(effectiveValue,note))))';
      const whole = await api.sheets.spreadsheets.get({ spreadsheetId: id, ranges: ["'报备 表'"], fields });
      const data = whole.data.sheets?.[0]?.data?.[0];
      expect(whole.data.sheets?.[0]?.properties).toEqual({ sheetId: 0, title: '报备 表' });
      expect(data?.rowData?.[1]?.values?.[0]).toEqual({
        effectiveValue: { stringValue: '上海华信科技有限公司' },
      });
      expect(data?.rowMetadata?.[0]).toEqual({});
      expect(data?.rowMetadata?.[1]).toEqual({
        developerMetadata: [{ metadataKey: 'baobei.rowKey', metadataValue: 'k1' }],
      });
      expect(data?.rowMetadata?.[3]?.developerMetadata?.[0]?.metadataValue).toBe('k3');
      // One column: its cells, and the same rows' metadata.
      const column = await api.sheets.spreadsheets.get({
        spreadsheetId: id,
        ranges: ["'报备 表'!C:C"],
        fields,
      });
      const c = column.data.sheets?.[0]?.data?.[0];
      expect(c?.startColumn).toBe(2);
      expect(c?.rowData?.[2]?.values).toEqual([{ effectiveValue: { numberValue: 13912345678 } }]); // typed: a number
      expect(c?.rowMetadata?.[3]?.developerMetadata?.[0]?.metadataValue).toBe('k3');
    });

    it('stays at its position on sort when the fake is told metadata does not follow sorting', async () => {
      await startFake({ rowMetadataFollowsSort: false });
      await tagRows([1, 2, 3]);
      fake.sortRows(id, '报备 表', { fromRow: 2, column: 'A' });
      expect(await rowKeys()).toEqual([
        { value: 'k1', row: 1 },
        { value: 'k2', row: 2 },
        { value: 'k3', row: 3 },
      ]);
    });
  });

  describe('developerMetadata.search and update/delete', () => {
    it('filters by key and value, location (exact or intersecting), location type and A1 range', async () => {
      await tagRows([1, 2, 3]);
      const search = async (dataFilters: sheets_v4.Schema$DataFilter[]) =>
        (
          (
            await api.sheets.spreadsheets.developerMetadata.search({
              spreadsheetId: id,
              requestBody: { dataFilters },
            })
          ).data.matchedDeveloperMetadata ?? []
        ).map((m) => m.developerMetadata?.metadataValue);
      expect(
        await search([{ developerMetadataLookup: { metadataKey: 'baobei.rowKey', metadataValue: 'k2' } }]),
      ).toEqual(['k2']);
      expect(
        await search([
          {
            developerMetadataLookup: {
              metadataLocation: {
                dimensionRange: { sheetId: 0, dimension: 'ROWS', startIndex: 3, endIndex: 4 },
              },
              locationMatchingStrategy: 'EXACT_LOCATION',
            },
          },
        ]),
      ).toEqual(['k3']);
      expect(
        await search([
          {
            developerMetadataLookup: {
              metadataLocation: {
                dimensionRange: { sheetId: 0, dimension: 'ROWS', startIndex: 1, endIndex: 3 },
              },
            },
          },
        ]),
      ).toEqual(['k1', 'k2']);
      expect(
        await search([{ developerMetadataLookup: { locationType: 'ROW' } }, { a1Range: "'报备 表'!A3:B3" }]),
      ).toEqual(['k1', 'k2', 'k3']);
      expect(await search([{ a1Range: "'报备 表'!A3:B3" }])).toEqual(['k2']);
      expect(await search([{ developerMetadataLookup: { metadataKey: 'nothing' } }])).toEqual([]);
    });

    it('hides PROJECT metadata from other Cloud projects and shows DOCUMENT metadata to everyone', async () => {
      await tagRows([1]);
      await api.sheets.spreadsheets.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          requests: [
            {
              createDeveloperMetadata: {
                developerMetadata: {
                  metadataKey: 'shared',
                  visibility: 'DOCUMENT',
                  location: { spreadsheet: true },
                },
              },
            },
          ],
        },
      });
      fake.share(id, OTHER);
      const other = clientsFor(fake, fake.issueToken(OTHER));
      const res = await other.sheets.spreadsheets.developerMetadata.search({
        spreadsheetId: id,
        requestBody: { dataFilters: [{ developerMetadataLookup: {} }] },
      });
      expect(res.data.matchedDeveloperMetadata?.map((m) => m.developerMetadata?.metadataKey)).toEqual([
        'shared',
      ]);
    });

    it('updates and deletes metadata matched by data filters', async () => {
      await tagRows([1, 2]);
      const res = await api.sheets.spreadsheets.batchUpdate({
        spreadsheetId: id,
        requestBody: {
          requests: [
            {
              updateDeveloperMetadata: {
                dataFilters: [
                  { developerMetadataLookup: { metadataKey: 'baobei.rowKey', metadataValue: 'k1' } },
                ],
                developerMetadata: { metadataValue: 'k1-v2' },
                fields: 'metadataValue',
              },
            },
            { deleteDeveloperMetadata: { dataFilter: { developerMetadataLookup: { metadataValue: 'k2' } } } },
          ],
        },
      });
      expect(res.data.replies?.[0]?.updateDeveloperMetadata?.developerMetadata?.[0]?.metadataValue).toBe(
        'k1-v2',
      );
      expect(res.data.replies?.[1]?.deleteDeveloperMetadata?.deletedDeveloperMetadata).toHaveLength(1);
      expect(await rowKeys()).toEqual([{ value: 'k1-v2', row: 1 }]);
    });
  });

  describe('sharing, identity and existence', () => {
    it('answers 401 without a token or with an unknown one', async () => {
      const none = sheets({ version: 'v4', rootUrl: fake.url, retry: false });
      expect(await failure(none.spreadsheets.get({ spreadsheetId: id }))).toMatchObject({
        status: 401,
        error: { status: 'UNAUTHENTICATED' },
      });
      const unknown = clientsFor(fake, 'ya29.not-a-token');
      expect((await failure(unknown.sheets.spreadsheets.get({ spreadsheetId: id }))).status).toBe(401);
      expect((await failure(unknown.drive.files.get({ fileId: id }))).error.errors?.[0]?.reason).toBe(
        'authError',
      );
    });

    it('answers 403 PERMISSION_DENIED for a spreadsheet not shared with the caller, and 404 for a missing one', async () => {
      fake.unshare(id, SA);
      expect(await failure(api.sheets.spreadsheets.get({ spreadsheetId: id }))).toMatchObject({
        status: 403,
        error: { status: 'PERMISSION_DENIED', message: 'The caller does not have permission' },
      });
      expect(await failure(api.sheets.spreadsheets.get({ spreadsheetId: 'missing-id' }))).toMatchObject({
        status: 404,
        error: { status: 'NOT_FOUND', message: 'Requested entity was not found.' },
      });
    });

    it('lets a reader read but not write', async () => {
      fake.share(id, SA, 'reader');
      await api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ['Notes!A1'] });
      const write = await failure(
        api.sheets.spreadsheets.values.batchUpdate({
          spreadsheetId: id,
          requestBody: { valueInputOption: 'RAW', data: [{ range: 'Notes!A1', values: [['x']] }] },
        }),
      );
      expect(write.status).toBe(403);
    });

    it('checks scopes: a Drive-metadata-only token may read the version but not the sheet', async () => {
      const narrow = clientsFor(fake, fake.issueToken(SA, { scopes: [SCOPES.driveMetadataReadonly] }));
      await narrow.drive.files.get({ fileId: id, fields: 'version' });
      const denied = await failure(narrow.sheets.spreadsheets.get({ spreadsheetId: id }));
      expect(denied.status).toBe(403);
      expect(denied.error.details?.[0]?.['reason']).toBe('ACCESS_TOKEN_SCOPE_INSUFFICIENT');
    });

    it('follows a renamed tab: the old name no longer parses', async () => {
      fake.renameSheet(id, '报备 表', '报备2026');
      expect(
        (
          await failure(
            api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ["'报备 表'!A1:D"] }),
          )
        ).status,
      ).toBe(400);
      const res = await api.sheets.spreadsheets.values.batchGet({
        spreadsheetId: id,
        ranges: ['报备2026!A1:A2'],
      });
      expect(res.data.valueRanges?.[0]).toMatchObject({
        range: "'报备2026'!A1:A2",
        values: [['客户名称'], ['上海华信科技有限公司']],
      });
    });
  });

  describe('quotas, payload size and faults', () => {
    it('answers 429 RESOURCE_EXHAUSTED after 60 reads per minute per user, counts writes apart, and refills each minute', async () => {
      for (let i = 0; i < 60; i++)
        await api.sheets.spreadsheets.get({ spreadsheetId: id, fields: 'spreadsheetId' });
      const refused = await failure(
        api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ['Notes!A1'] }),
      );
      expect(refused.status).toBe(429);
      expect(refused.error.status).toBe('RESOURCE_EXHAUSTED');
      expect(refused.error.message).toMatch(
        /^Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'sheets.googleapis.com'/,
      );
      expect(refused.error.details?.[0]).toMatchObject({
        reason: 'RATE_LIMIT_EXCEEDED',
        metadata: { quota_limit_value: '60' },
      });
      // Writes have their own quota.
      await api.sheets.spreadsheets.values.batchUpdate({
        spreadsheetId: id,
        requestBody: { valueInputOption: 'RAW', data: [{ range: 'Notes!A1', values: [['x']] }] },
      });
      t += 60_000;
      await api.sheets.spreadsheets.get({ spreadsheetId: id, fields: 'spreadsheetId' });
    });

    it('applies the per-project quota across users of one project', async () => {
      fake.setQuotas({ sheetsReadPerMinutePerProject: 3 });
      const second = 'second@baobei-test.iam.gserviceaccount.com';
      fake.share(id, second);
      const other = clientsFor(fake, fake.issueToken(second));
      await api.sheets.spreadsheets.get({ spreadsheetId: id, fields: 'spreadsheetId' });
      await api.sheets.spreadsheets.get({ spreadsheetId: id, fields: 'spreadsheetId' });
      await other.sheets.spreadsheets.get({ spreadsheetId: id, fields: 'spreadsheetId' });
      const refused = await failure(
        other.sheets.spreadsheets.get({ spreadsheetId: id, fields: 'spreadsheetId' }),
      );
      expect(refused.error.message).toMatch(/limit 'Read requests per minute' /);
    });

    it('answers Drive’s 403 userRateLimitExceeded past its per-user quota', async () => {
      fake.setQuotas({ drivePerMinutePerUser: 2 });
      await api.drive.files.get({ fileId: id, fields: 'version' });
      await api.drive.files.get({ fileId: id, fields: 'version' });
      const refused = await failure(api.drive.files.get({ fileId: id, fields: 'version' }));
      expect(refused.status).toBe(403);
      expect(refused.error.errors?.[0]?.reason).toBe('userRateLimitExceeded');
    });

    it('refuses a request body over the configured size (Google recommends at most 2 MB) and accepts one under it', async () => {
      await startFake({ maxRequestBytes: 64 * 1024 });
      const big = 'x'.repeat(40_000);
      const body = (n: number) => ({
        valueInputOption: 'RAW',
        data: [{ range: 'Notes!A1', values: [Array.from({ length: n }, () => big)] }],
      });
      const refused = await failure(
        api.sheets.spreadsheets.values.batchUpdate({ spreadsheetId: id, requestBody: body(2) }),
      );
      expect(refused).toMatchObject({
        status: 400,
        error: { message: 'Request payload size exceeds the limit: 65536 bytes.' },
      });
      await api.sheets.spreadsheets.values.batchUpdate({ spreadsheetId: id, requestBody: body(1) });
    });

    it('fails injected calls with 5xx, then recovers', async () => {
      fake.injectFault({ method: 'spreadsheets.values.batchGet', status: 503, times: 2 });
      for (let i = 0; i < 2; i++) {
        expect(
          await failure(api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ['Notes!A1'] })),
        ).toMatchObject({ status: 503, error: { status: 'UNAVAILABLE' } });
      }
      await api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ['Notes!A1'] });
      fake.injectFault({ api: 'drive', status: 500 });
      expect((await failure(api.drive.files.get({ fileId: id, fields: 'version' }))).status).toBe(500);
    });
  });

  describe('service-account JWT (useJWTAccessWithScope)', () => {
    function serviceAccount(email: string) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return {
        privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        email,
      };
    }

    function jwtClients(email: string, privatePem: string, keyId?: string): Clients {
      const auth = new JWT({
        email,
        key: privatePem,
        scopes: [SCOPES.spreadsheets, SCOPES.driveMetadataReadonly],
        ...(keyId === undefined ? {} : { keyId }),
      });
      auth.useJWTAccessWithScope = true;
      return {
        sheets: sheets({ version: 'v4', auth, rootUrl: fake.url, retry: false }),
        drive: drive({ version: 'v3', auth, rootUrl: fake.url, retry: false }),
      };
    }

    it('verifies a self-signed JWT against the account’s public key and takes the identity from it', async () => {
      t = Date.now();
      const sa = serviceAccount('jwt@baobei-test.iam.gserviceaccount.com');
      fake.addServiceAccount(sa.email, { publicKeyPem: sa.publicPem, keyId: 'key-1' });
      fake.share(id, sa.email);
      const c = jwtClients(sa.email, sa.privatePem, 'key-1');
      await c.drive.files.get({ fileId: id, fields: 'version' });
      await c.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ['Notes!A1'] });
      expect(fake.calls.slice(-2).map((call) => call.identity)).toEqual([sa.email, sa.email]);
    });

    it('refuses a JWT signed by another key, a wrong kid, an expired one, and alg none', async () => {
      t = Date.now();
      const sa = serviceAccount('jwt@baobei-test.iam.gserviceaccount.com');
      const impostor = serviceAccount(sa.email);
      fake.addServiceAccount(sa.email, { publicKeyPem: sa.publicPem, keyId: 'key-1' });
      fake.share(id, sa.email);
      expect(
        (
          await failure(
            jwtClients(sa.email, impostor.privatePem, 'key-1').sheets.spreadsheets.get({ spreadsheetId: id }),
          )
        ).status,
      ).toBe(401);
      expect(
        (
          await failure(
            jwtClients(sa.email, sa.privatePem, 'key-2').sheets.spreadsheets.get({ spreadsheetId: id }),
          )
        ).status,
      ).toBe(401);
      t = Date.now() + 2 * 3600_000;
      expect(
        (
          await failure(
            jwtClients(sa.email, sa.privatePem, 'key-1').sheets.spreadsheets.get({ spreadsheetId: id }),
          )
        ).status,
      ).toBe(401);
      t = Date.now();
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const unsigned = `${b64({ alg: 'none' })}.${b64({ iss: sa.email, sub: sa.email, scope: SCOPES.spreadsheets, iat: t / 1000, exp: t / 1000 + 600 })}.`;
      expect(
        (await failure(clientsFor(fake, unsigned).sheets.spreadsheets.get({ spreadsheetId: id }))).status,
      ).toBe(401);
    });
  });

  describe('a person between two calls', () => {
    it('beforeCall runs the edit just before the nth next call of that method is answered, once', async () => {
      const get = async () =>
        (await api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ["'报备 表'!A2:A4"] }))
          .data.valueRanges?.[0]?.values;
      fake.beforeCall(
        'spreadsheets.values.batchGet',
        () => fake.sortRows(id, '报备 表', { fromRow: 2, column: 'A' }),
        2,
      );
      const before = [['上海华信科技有限公司'], ['北京远航'], ['杭州云栖']];
      expect(await get()).toEqual(before);
      await api.drive.files.get({ fileId: id, fields: 'version' }); // another method: not counted
      const sorted = [['北京远航'], ['杭州云栖'], ['上海华信科技有限公司']];
      expect(await get()).toEqual(sorted);
      fake.editCells(id, '报备 表', 'A2', [['上海华信科技有限公司']]);
      expect((await get())?.[0]).toEqual(['上海华信科技有限公司']); // the hook ran once
    });
  });

  describe('call log', () => {
    it('records each call with its method, status, identity, sizes and the kinds of batchUpdate requests', async () => {
      fake.clearCalls();
      await api.drive.files.get({ fileId: id, fields: 'version,modifiedTime' });
      await api.sheets.spreadsheets.values.batchGet({ spreadsheetId: id, ranges: ["'报备 表'!A1:Z"] });
      await tagRows([1, 2]);
      await failure(api.sheets.spreadsheets.get({ spreadsheetId: 'missing' }));
      expect(fake.callCounts()).toEqual({
        'drive.files.get': 1,
        'spreadsheets.values.batchGet': 1,
        'spreadsheets.batchUpdate': 1,
        'spreadsheets.get': 1,
      });
      expect(fake.calls.map((c) => c.status)).toEqual([200, 200, 200, 404]);
      expect(fake.calls[2]?.requestKinds).toEqual(['createDeveloperMetadata', 'createDeveloperMetadata']);
      expect(fake.calls.every((c) => c.identity === SA)).toBe(true);
      expect(fake.calls[1]?.responseBytes).toBeGreaterThan(100);
    });
  });
});

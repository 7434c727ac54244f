/**
 * The notes the Google Sheets sync writes on a tab with two phone columns (电话 and 手机, README's
 * Legacy sheets): a bad number read from 电话 because 手机 is blank is noted on the 电话 cell, the
 * number to correct, as the import's annotated copy and the add-in note it. The sync's notes carry
 * the add-in's NOTE_MARKER, so a note a person wrote on a cell is kept and ours alone is replaced or
 * removed. The real service over HTTP, the real googleapis client against the fake Google server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOTE_MARKER } from '../../core/sheetNotes.js';
import type { FakeGoogle } from '../fakes/fakeGoogle.js';
import { LINK_COLLECTION, sheetLinkSchema } from '../../server/sheets/sheetLinks.js';
import { companyNameFor, phoneFor } from '../support/customers.js';
import type { Api } from '../support/testService.js';
import { SERVICE_ACCOUNT, linkSheet, startSheetsService, type SheetsService } from './sheetsService.js';

const TAB = '报备';
/** 手机 (E) is the mapped phone; 电话 (D) is read when 手机 is blank. */
const HEADER = ['客户名称', '联系人', '客户类型', '电话', '手机', '地址', '客户来源'];
/** 0-based columns of 报备编号 and 状态 (appended by the link after 客户来源, G). */
const NO = 7;
const STATUS = 8;
const PHONE_INVALID = '电话号码格式不正确';
const PHONE_REQUIRED = '个人客户必须填写联系电话';

function sheetRow(n: number, landline: string, mobile: string): string[] {
  return [companyNameFor(n), '张三', '企业', landline, mobile, '上海市浦东新区张江路 100 号', '展会'];
}

/** A person: a phone is required (R5), so without one the row is invalid. */
function personRow(name: string, landline: string, mobile: string): string[] {
  return [name, '', '个人', landline, mobile, '', '展会'];
}

describe('Google Sheets sync: notes on a tab with 电话 and 手机', () => {
  let fake: FakeGoogle;
  let sheets: SheetsService;
  let admin: Api;

  beforeEach(async () => {
    sheets = await startSheetsService({ dirPrefix: 'baobei-sheets-phone-notes-' });
    ({ fake, admin } = sheets);
  });

  afterEach(async () => {
    await sheets.close();
  });

  function tab(rows: string[][]): string {
    return fake.createSpreadsheet({
      sheets: [{ title: TAB, values: [HEADER, ...rows] }],
      sharedWith: { [SERVICE_ACCOUNT]: 'writer' },
    });
  }

  async function sync(linkId: string): Promise<Record<string, unknown>> {
    const res = await admin.post<Record<string, unknown>>(`/api/sheets/${linkId}/sync`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  function note(id: string, address: string): string | null {
    return fake.cell(id, TAB, address).note;
  }

  it('[R8] a bad number read from 电话 is noted on the 电话 cell, not on the blank 手机 cell; a bad 手机 and a missing phone on 手机', async () => {
    const id = tab([
      sheetRow(1, '12345', ''), // read from 电话
      sheetRow(2, '021-12345678', '123'), // read from 手机
      personRow('朱勇', '', ''), // neither: 手机 is the cell to fill in
    ]);
    const linkId = await linkSheet(admin, id, TAB);
    expect(await sync(linkId)).toMatchObject({ registered: 0, invalid: 3 });

    const noted = ['D', 'E'].flatMap((col) =>
      [2, 3, 4].flatMap((row) => (note(id, `${col}${row}`) === null ? [] : [`${col}${row}`])),
    );
    expect(noted).toEqual(['D2', 'E3', 'E4']);
    expect(note(id, 'D2')).toMatch(new RegExp(`^${NOTE_MARKER}\\n${PHONE_INVALID}`));
    expect(note(id, 'E3')).toMatch(new RegExp(`^${NOTE_MARKER}\\n${PHONE_INVALID}`));
    expect(note(id, 'E4')).toBe(`${NOTE_MARKER}\n${PHONE_REQUIRED}`);

    // Our write-back moved the version: the next sync reads, finds every note as wanted, writes nothing.
    expect(await sync(linkId)).toMatchObject({ calls: 2 });
  });

  it('the note follows the number: typed into 手机 it moves there, corrected it is removed and the row registered', async () => {
    const id = tab([sheetRow(1, '12345', '')]);
    const linkId = await linkSheet(admin, id, TAB);
    await sync(linkId);
    expect(note(id, 'D2')).toContain(PHONE_INVALID);

    // A bad mobile typed in: 手机 is read now, and the note on 电话 is no longer ours to keep.
    fake.editCells(id, TAB, 'E2', [['1390000']]);
    expect(await sync(linkId)).toMatchObject({ invalid: 1 });
    expect(note(id, 'D2')).toBeNull();
    expect(note(id, 'E2')).toContain(PHONE_INVALID);

    // 手机 emptied and 电话 corrected: read from 电话 again, valid, registered, no note of ours left.
    fake.editCells(id, TAB, 'D2', [['021-12345678']]);
    fake.editCells(id, TAB, 'E2', [['无']]);
    expect(await sync(linkId)).toMatchObject({ registered: 1, invalid: 0 });
    expect(note(id, 'D2')).toBeNull();
    expect(note(id, 'E2')).toBeNull();
    const row = fake.values(id, TAB)[1]!;
    expect(String(row[NO])).toMatch(/^BB-2026-\d{6}$/);
  });

  it('a note a person wrote is kept: ours goes after it on the same cell and leaves it as it was when the number is corrected', async () => {
    const id = tab([sheetRow(1, '12345', ''), sheetRow(2, '021-12345678', phoneFor(2))]);
    fake.writeNote(id, TAB, 'D2', '客户只留了座机');
    fake.writeNote(id, TAB, 'D3', '总机，转 8001');
    fake.writeNote(id, TAB, 'A3', '老客户，去年展会认识');
    const linkId = await linkSheet(admin, id, TAB);
    expect(await sync(linkId)).toMatchObject({ registered: 1, invalid: 1 });

    expect(note(id, 'D2')).toMatch(new RegExp(`^客户只留了座机\\n\\n${NOTE_MARKER}\\n${PHONE_INVALID}`));
    expect(note(id, 'E2')).toBeNull();
    // The registered row's notes, on the second phone column and on a mapped one, are the person's.
    expect(String(fake.values(id, TAB)[2]![NO])).toMatch(/^BB-2026-\d{6}$/);
    expect(note(id, 'D3')).toBe('总机，转 8001');
    expect(note(id, 'A3')).toBe('老客户，去年展会认识');
    expect(await sync(linkId)).toMatchObject({ calls: 2 });

    fake.editCells(id, TAB, 'D2', [['021-87654321']]);
    expect(await sync(linkId)).toMatchObject({ registered: 1, invalid: 0 });
    expect(note(id, 'D2')).toBe('客户只留了座机');
    expect(note(id, 'D3')).toBe('总机，转 8001');
    expect(note(id, 'A3')).toBe('老客户，去年展会认识');
  });

  it('a link synced before its notes were marked: the unmarked notes the sync wrote then on mapped cells are replaced, not kept beside ours', async () => {
    const id = tab([personRow('朱勇', '', ''), personRow('何静', '', '')]);
    const linkId = await linkSheet(admin, id, TAB);
    // As such a link is stored (no notesMarked), with the notes an earlier sync wrote: the bare text.
    await sheets.service.store.write(async (tx) => {
      const { notesMarked, ...before } = sheetLinkSchema.parse(await tx.getDoc(LINK_COLLECTION, linkId));
      expect(notesMarked).toBe(true);
      await tx.putDoc(LINK_COLLECTION, linkId, before);
    });
    fake.writeNote(id, TAB, 'E2', PHONE_REQUIRED);
    fake.writeNote(id, TAB, 'E3', PHONE_REQUIRED);
    // Row 3 is corrected before the first sync of this build: its old note must go too.
    fake.editCells(id, TAB, 'E3', [[phoneFor(3)]]);
    expect(await sync(linkId)).toMatchObject({ registered: 1, invalid: 1 });
    expect(note(id, 'E2')).toBe(`${NOTE_MARKER}\n${PHONE_REQUIRED}`);
    expect(note(id, 'E3')).toBeNull();
    expect(fake.values(id, TAB)[1]![STATUS]).toBe('信息有误');
    const stored = await sheets.service.store.read((tx) => tx.getDoc(LINK_COLLECTION, linkId));
    expect(sheetLinkSchema.parse(stored).notesMarked).toBe(true);

    // From then on a person's note on a mapped cell is theirs.
    fake.writeNote(id, TAB, 'A2', '下周回访');
    fake.editCells(id, TAB, 'E2', [[phoneFor(2)]]);
    expect(await sync(linkId)).toMatchObject({ registered: 1, invalid: 0 });
    expect(note(id, 'A2')).toBe('下周回访');
    expect(note(id, 'E2')).toBeNull();
  });
});

/**
 * Sheet links and per-row sync state, kept in the store's documents collection so lowdb and
 * PostgreSQL hold them alike (no table of their own). Every document is zod-parsed when read back:
 * a document written by an older build is refused by name, not half-used.
 */
import { z } from 'zod';
import { DomainError, problem } from '../../core/problem.js';
import { FIELDS, RESULT_COLUMNS, type Field, type ResultColumn } from '../../core/schema.js';
import type { ReadTx } from '../store/store.js';

export const LINK_COLLECTION = 'sheet-links';
/** Rows registered from a sheet, by `${linkId}|${registrationNo}`: the inputs last applied. */
export const ROW_COLLECTION = 'sheet-rows';
/**
 * Rows submitted but maybe not written back, by `${linkId}|${rowKey}|${inputHash}`: the exactly-once
 * ledger (sheetRowIdentity says where row keys come from).
 */
export const CLAIM_COLLECTION = 'sheet-claims';

/**
 * How many rows that are no registration a sync report lists, and a link keeps as `lastRead` for the
 * report of a sync that stops at the unchanged version; `notRegistered` still counts them all. A
 * real tab has a handful (the template's example, a total, a note or two), so none is ever cut;
 * a tab pasted full of note rows would otherwise make the link document — rewritten on every sync,
 * every minute — grow without bound. 200 rows are at most ~114 KB (an example row's reason, the
 * longest, is ~570 bytes of JSON; a note's ~160).
 */
export const NOT_REGISTERED_ROWS_KEPT = 200;

const fieldSchema = z.enum(FIELDS as [Field, ...Field[]]);
const resultColumnSchema = z.enum(Object.keys(RESULT_COLUMNS) as [ResultColumn, ...ResultColumn[]]);

export const linkErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  messageEn: z.string(),
  at: z.string(),
});

export const sheetLinkSchema = z.object({
  id: z.string(),
  spreadsheetId: z.string(),
  sheet: z.string(),
  team: z.string(),
  owner: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  paused: z.boolean(),
  /** 1-based header row and column of each mapped field / result column (A = 1). */
  headerRow: z.number().int().positive(),
  headers: z.record(z.string(), z.string()),
  /**
   * Per column, the merged group header above it when the header is two rows (金额（万元） over 预计
   * 金额), as detected at link time: a money column's unit may come from it. Links made before it
   * was kept have none, so their amounts stay read as they were registered (docs/sheets.md).
   */
  groups: z.record(z.string(), z.string()).optional(),
  fieldColumns: z.partialRecord(fieldSchema, z.number().int().positive()),
  resultColumns: z.record(resultColumnSchema, z.number().int().positive()),
  /**
   * The sync's notes on this tab carry core's NOTE_MARKER, so a person's note on a cell is told from
   * ours. Links made before had the sync own every note on a mapped cell it wrote, unmarked: until
   * their first sync that reads the tab, an unmarked note on a mapped cell is taken as the sync's
   * (docs/sheets.md).
   */
  notesMarked: z.literal(true).optional(),
  /** Drive's file version at the last complete sync; a sync with the same version reads nothing. */
  lastVersion: z.string().optional(),
  /**
   * What the last complete sync that read the tab found in it, for the report of a sync that stops
   * at the unchanged version (the tab holds the same rows). Links synced before it was kept have
   * none: their next sync reads the tab even if its version did not move (docs/sheets.md).
   * `notRegisteredRows` holds at most the first NOT_REGISTERED_ROWS_KEPT of them (the link is
   * rewritten on every sync) and `notRegistered` counts them all; a link stored before the cap has
   * no count (then all its rows are kept) and may hold more rows, cut when read (sheetSync).
   */
  lastRead: z
    .object({
      at: z.string(),
      notRegistered: z.number().int().nonnegative().optional(),
      notRegisteredRows: z.array(
        z.object({
          row: z.number().int().positive(),
          skipped: z.enum(['example', 'total', 'note', 'header-repeat']),
          reason: z.object({
            code: z.string(),
            message: z.string(),
            messageEn: z.string(),
            field: z.string().optional(),
          }),
        }),
      ),
    })
    .optional(),
  lastSyncAt: z.string().optional(),
  lastCalls: z.number().int().nonnegative().optional(),
  error: linkErrorSchema.optional(),
});
export type SheetLink = z.infer<typeof sheetLinkSchema>;
export type LinkError = z.infer<typeof linkErrorSchema>;

export const rowStateSchema = z.object({
  /** Hash of the input cells last applied to the registration. */
  hash: z.string(),
  cells: z.partialRecord(fieldSchema, z.union([z.string(), z.number(), z.boolean()])),
  /** The row key the number was registered under (or adopted with): tells the row from its copies. */
  key: z.string().optional(),
  /** Inputs a change was refused for: not sent again until they change. */
  refusedHash: z.string().optional(),
  refusal: z.string().optional(),
});
export type RowState = z.infer<typeof rowStateSchema>;

export const claimSchema = z.object({
  no: z.string().optional(),
  /** The result cells and fill the row is to show (re-written if the write-back was lost). */
  cells: z.record(resultColumnSchema, z.string()),
  fill: z.string(),
  notes: z.partialRecord(fieldSchema, z.string()),
  hash: z.string(),
});
export type Claim = z.infer<typeof claimSchema>;

export async function loadLink(tx: ReadTx, id: string): Promise<SheetLink> {
  const raw = await tx.getDoc(LINK_COLLECTION, id);
  if (raw === undefined) {
    throw new DomainError(
      problem('sheets.link_not_found', `没有名为 ${id} 的表格链接`, `No sheet link named ${id}`, 'id'),
    );
  }
  return sheetLinkSchema.parse(raw);
}

export function rowKey(linkId: string, key: string): string {
  return `${linkId}|${key}`;
}

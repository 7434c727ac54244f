/**
 * A sheet row that holds a registration number, at a sync: a number the link did not write is
 * adopted only when it is this team's registration of this row's customer (else flagged); an
 * unchanged row shows its record; edited inputs go through PATCH (ChangeService), and a refused
 * change is marked on the row until the row is put back.
 */
import { annotateRow } from '../../core/annotation.js';
import { dayOf } from '../../core/day.js';
import { DomainError, problem, type Problem } from '../../core/problem.js';
import { parseFieldCell } from '../../core/row.js';
import type { Field, StoredRecord } from '../../core/schema.js';
import type { Actor } from '../services/actor.js';
import type { ChangeService } from '../services/changeService.js';
import type { Store } from '../store/store.js';
import { ROW_COLLECTION, rowKey, type RowState, type SheetLink } from './sheetLinks.js';
import { hashOf, inputCells } from './sheetTabRead.js';
import type { Annotation } from './sheetWriteBack.js';

export interface RegisteredRowDeps {
  store: Store;
  changes: ChangeService;
  clock: () => Date;
}

export interface RegisteredRowOutcome {
  refused: boolean;
  restored?: boolean;
  invalid?: boolean;
  /** Nothing changed in the row: `write` is the record as it stands now. */
  current?: boolean;
  write: Annotation;
}

/** A row holding a registration number: unchanged, or its edited inputs go through PATCH. */
export async function registeredRow(
  deps: RegisteredRowDeps,
  link: SheetLink,
  actor: Actor,
  no: string,
  /**
   * The row's state as the sync read it (rowsKnown), and the record when the row's cells had not
   * changed: no store read of its own for a row that only shows its record.
   */
  known: { state: RowState | undefined; current: StoredRecord | undefined },
  cells: Partial<Record<Field, string | number | boolean>>,
  /**
   * The hash of the row's cells, and the one a build before 2026-12-08 took of them (placeholders as
   * typed) when it differs: a state stored by such a build matches it, so the upgrade edits nothing.
   */
  hashes: { hash: string; legacy: string | undefined },
  rowKeyOnSheet: string | undefined,
  dryRun: boolean,
  rowErrors: readonly Problem[],
): Promise<RegisteredRowOutcome | null> {
  const key = rowKey(link.id, no);
  const state = known.state;
  const { hash } = hashes;
  const matches = (stored: string | undefined) =>
    stored !== undefined && (stored === hash || stored === hashes.legacy);
  const unchanged = keepsInputs(state, hashes);
  if (state === undefined) {
    // A number this link did not write (typed, or from Excel): adopted as the row's baseline, bound
    // to the row's key when it has one (so a later copy of the row is told from it) — but only a
    // registration of the link's team and of this row's customer. Any other number is flagged and
    // not adopted: a later edit of the row would otherwise PATCH someone else's record.
    const record = await deps.store.read((tx) => tx.getRecord(no));
    const name = parseFieldCell('customerName', cells.customerName, dayOf(deps.clock()));
    const why =
      record === undefined
        ? '没有这个报备编号'
        : record.team !== link.team
          ? `该编号不是团队 ${link.team} 的报备`
          : name === null || !('value' in name) || name.value !== record.registration.customerName
            ? '该编号登记的不是这一行的客户'
            : undefined;
    if (why !== undefined) {
      return {
        refused: false,
        invalid: true,
        write: flagged(
          no,
          `报备编号 ${no} 无效：${why}。新客户请清空报备编号后作为新行提交`,
          link,
          '编号无效',
        ),
      };
    }
    if (!dryRun)
      await deps.store.write((tx) =>
        tx.putDoc(ROW_COLLECTION, key, { hash, cells, ...(rowKeyOnSheet ? { key: rowKeyOnSheet } : {}) }),
      );
    return null;
  }
  const current = known.current;
  if (unchanged && state.refusedHash !== undefined) {
    // Put back as it was after a refused change: the 已变更，未生效 mark must go, or it stays forever.
    if (dryRun) return null;
    await deps.store.write((tx) =>
      tx.putDoc(ROW_COLLECTION, key, {
        hash,
        cells: inputCells(state.cells),
        ...(state.key ? { key: state.key } : {}),
      }),
    );
    if (current === undefined) return null;
    return { refused: false, restored: true, write: recordState(current) };
  }
  if (matches(state.refusedHash)) return null;
  if (unchanged) {
    // Unchanged in the sheet, maybe not in the service (reviewed, extended, ended): the row is to
    // show the record's status and protection end. The caller writes it only when those differ.
    if (dryRun) return null;
    if (current === undefined) return null;
    return { refused: false, current: true, write: recordState(current) };
  }
  const changes: Partial<Record<Field, string | number | boolean | null>> = {};
  // Cells an older build kept with their placeholders compare as the blanks they are read as.
  const before = inputCells(state.cells);
  for (const f of new Set([...Object.keys(before), ...Object.keys(cells)]) as Set<Field>) {
    if (before[f] !== cells[f]) changes[f] = cells[f] ?? null;
  }
  if (dryRun) return null;
  // An error value (#REF!, a broken formula) is left out of the row's cells, so its field would go
  // as null and empty the value on the record: such a row is refused here, never sent.
  const broken = rowErrors.find(
    (e) => e.code === 'cell.error_value' && e.field !== undefined && Object.hasOwn(changes, e.field),
  );
  const record = await deps.store.read((tx) => tx.getRecord(no));
  try {
    if (record === undefined)
      throw new DomainError(problem('registration.not_found', `没有报备 ${no}`, `No registration ${no}`));
    if (broken !== undefined) throw new DomainError(broken);
    const result = await deps.changes.change(
      actor,
      no,
      { changes, reason: '在 Google 表格中更改 / edited in the Google sheet' },
      record.version,
    );
    await deps.store.write((tx) =>
      tx.putDoc(ROW_COLLECTION, key, { hash, cells, ...(state.key ? { key: state.key } : {}) }),
    );
    const ann = annotateRow({
      status: result.record.status,
      registrationNo: no,
      protectedUntil: result.record.protectedUntil,
      errors: [],
      warnings: result.warnings,
      conflicts: [],
    });
    return { refused: false, write: ann };
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    await deps.store.write((tx) =>
      tx.putDoc(ROW_COLLECTION, key, { ...state, refusedHash: hash, refusal: e.message }),
    );
    return {
      refused: true,
      write: {
        cells: {
          registrationNo: no,
          status: '已变更，未生效',
          protectedUntil: record?.protectedUntil ?? '',
          conflict: `更改被拒绝：${e.message}`,
          hint: '改回原值，或请审核人处理',
        },
        fill: 'red',
        notes: {},
      },
    };
  }
}

/**
 * Whether a registered row still holds the inputs last applied to its record. A state stored by a
 * build before 2026-12-08 hashed its cells with their placeholders as typed: it matches the row's
 * legacy hash while the row still holds them, and its cells read as today (placeholders as blanks)
 * once the row holds a blank instead, so upgrading sends no change for either.
 */
export function keepsInputs(
  state: RowState | undefined,
  hashes: { hash: string; legacy: string | undefined },
): boolean {
  if (state === undefined) return false;
  if (state.hash === hashes.hash || state.hash === hashes.legacy) return true;
  return hashOf(inputCells(state.cells)) === hashes.hash;
}

/** A registered row as its record stands: number, status and protection end, nothing to point out. */
export function recordState(record: StoredRecord): Annotation {
  return annotateRow({
    status: record.status,
    registrationNo: record.no,
    protectedUntil: record.protectedUntil,
    errors: [],
    warnings: [],
    conflicts: [],
  });
}

/** A copied row's mark (or a number not adopted): the number stays as typed, the row says why and what to do. */
export function flagged(no: string, message: string, link: SheetLink, status = '编号重复'): Annotation {
  const fields = Object.keys(link.fieldColumns) as Field[];
  const noteOn = fields.includes('customerName') ? 'customerName' : fields[0];
  return {
    cells: { registrationNo: no, status, protectedUntil: '', conflict: message, hint: '' },
    fill: 'red',
    notes: noteOn === undefined ? {} : { [noteOn]: message },
  };
}

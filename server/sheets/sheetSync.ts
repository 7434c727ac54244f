/**
 * Google Sheets sync (issue 11, and issue 15's sheet side): a linked tab is read, its new rows go
 * through the same submit as the add-in (shared row evaluation, idempotency), edited registered
 * rows through the same PATCH path (ChangeService), and the results are written back with the
 * palette of core/annotation. Rows are known by number or row key (sheetRowIdentity), never by
 * position. Calls per sync: Drive files.get (version) — alone when nothing changed; one
 * spreadsheets.get (values, notes, row keys); and only when some row's result changed, a re-read of
 * the identity column, one values.batchUpdate and one spreadsheets.batchUpdate (fills, notes, keys).
 * Here: the service and one sync's run. Linking is sheetLinking, reading the tab sheetTabRead, a
 * numbered row's outcome sheetRegisteredRow, the writes sheetWriteBack.
 *
 * Over 600 lines as one file: one sync's run, read to write-back, is one transaction-like sequence;
 * what stands alone is already split out (above).
 */
import { annotateRow } from '../../core/annotation.js';
import { dayOf } from '../../core/day.js';
import { registrantOf } from '../../core/row.js';
import { DomainError, problem } from '../../core/problem.js';
import { type HintWrite } from '../../core/sheetLayout.js';
import { outcomeOfResult } from '../../core/sheetResults.js';
import { readRows } from '../../core/sheetRows.js';
import type { Field, StoredRecord } from '../../core/schema.js';
import type { NotRegisteredRow } from '../../core/skippedRow.js';
import { actorOf, requireRole, type Actor } from '../services/actor.js';
import type { RegistrationService } from '../services/registrationService.js';
import type { ChangeService } from '../services/changeService.js';
import type { Store, User } from '../store/store.js';
import { columnLetter } from './a1Range.js';
import { GoogleApiError } from './googleApiError.js';
import type { GoogleSheetsClient, GridRead } from './googleClient.js';
import {
  CLAIM_COLLECTION,
  claimSchema,
  LINK_COLLECTION,
  loadLink,
  NOT_REGISTERED_ROWS_KEPT,
  ROW_COLLECTION,
  rowKey,
  rowStateSchema,
  sheetLinkSchema,
  type Claim,
  type RowState,
  type SheetLink,
} from './sheetLinks.js';
import { flagged, keepsInputs, registeredRow } from './sheetRegisteredRow.js';
import { linkTab, requireTeam, type LinkedTab, type LinkRequest } from './sheetLinking.js';
import { identifyRows, rowsByIdentity, type RowFacts } from './sheetRowIdentity.js';
import {
  hashOf,
  inputCells,
  numberColumnFacts,
  parseSheet,
  tabMissing,
  wholeTab,
  type ParsedSheet,
  type SheetRowRead,
} from './sheetTabRead.js';
import {
  changedNotes,
  showsCells,
  showsStatusOf,
  writeResults,
  type Annotation,
  type NoteWrite,
  type PlacedWrite,
} from './sheetWriteBack.js';

export { linkRequestSchema, spreadsheetIdOf, type LinkRequest } from './sheetLinking.js';

export interface SyncReport {
  link: string;
  skipped: boolean;
  registered: number;
  changed: number;
  refused: number;
  invalid: number;
  /** Rows under the header that are no registration (example, total, note, header repeated). */
  notRegistered: number;
  /**
   * Those rows, each with the import report's `skipped` kind and `reason` (row.example, row.total…).
   * From the last read of the tab: the re-read before the write-back when there is one (it reads the
   * whole tab whenever the first read found such rows, since rows may have moved meanwhile and the
   * 提示 texts are planned from it too), else the first read.
   */
  notRegisteredRows: NotRegisteredRow[];
  /**
   * Whether `notRegisteredRows` lists only the first NOT_REGISTERED_ROWS_KEPT (200) of the
   * `notRegistered` rows: the rest are left out of the report and of what the link keeps.
   */
  notRegisteredTruncated: boolean;
  /**
   * Present when this sync read nothing (`skipped`: the file's version is unchanged): the time of the
   * last sync that read the tab, whose `notRegistered` and `notRegisteredRows` are carried — the tab
   * still holds those rows, since nothing in the file changed.
   */
  notRegisteredAsOf?: string;
  /** The 提示 texts written on those rows ('' takes a stale one out); in a dry run, those it would write. */
  hints: HintWrite[];
  calls: number;
  dryRun: boolean;
}

export interface SheetSyncDeps {
  store: Store;
  registrations: RegistrationService;
  changes: ChangeService;
  clock: () => Date;
  /** Absent when no Google key is configured: linking is refused with what to set. */
  client: GoogleSheetsClient | undefined;
}

export class SheetSyncService {
  /** Links being synced in this process: a scheduled sync never overlaps a manual one. */
  private readonly running = new Set<string>();

  constructor(private readonly deps: SheetSyncDeps) {}

  private client(): GoogleSheetsClient {
    if (this.deps.client === undefined) {
      throw new DomainError(
        problem(
          'sheets.not_configured',
          '未配置 Google 服务账号：请设置 BAOBEI_GOOGLE_CREDENTIALS 指向 JSON 密钥文件',
          'No Google service account: set BAOBEI_GOOGLE_CREDENTIALS to the JSON key file',
        ),
      );
    }
    return this.deps.client;
  }

  async link(actor: Actor, request: LinkRequest): Promise<LinkedTab> {
    return linkTab(this.deps, this.client(), actor, request);
  }

  async list(actor: Actor): Promise<SheetLink[]> {
    requireRole(actor, ['reviewer', 'admin'], '查看表格链接', 'list sheet links');
    const docs = await this.deps.store.read((tx) => tx.listDocs(LINK_COLLECTION));
    return docs
      .map((d) => sheetLinkSchema.parse(d.value))
      .filter((l) => actor.role === 'admin' || actor.team === undefined || actor.team === l.team);
  }

  async setPaused(actor: Actor, id: string, paused: boolean): Promise<SheetLink> {
    requireRole(actor, ['reviewer', 'admin'], '暂停或恢复表格链接', 'pause or resume a sheet link');
    return this.deps.store.write(async (tx) => {
      const link = { ...(await loadLink(tx, id)), paused };
      requireTeam(actor, link.team);
      await tx.putDoc(LINK_COLLECTION, id, link);
      return link;
    });
  }

  async unlink(actor: Actor, id: string): Promise<void> {
    requireRole(actor, ['reviewer', 'admin'], '取消表格链接', 'unlink a sheet');
    await this.deps.store.write(async (tx) => {
      requireTeam(actor, (await loadLink(tx, id)).team);
      await tx.deleteDoc(LINK_COLLECTION, id);
      // What the link kept of its rows (input cells, sealed, and the claims of rows in flight) has
      // no use without it: kept, the customers' data would outlive the link with nothing to expire it.
      for (const collection of [ROW_COLLECTION, CLAIM_COLLECTION]) {
        for (const doc of await tx.listDocs(collection, { prefix: rowKey(id, '') }))
          await tx.deleteDoc(collection, doc.key);
      }
    });
  }

  /** Every unpaused link, one after the other (the scheduler's tick). Errors stay on their link. */
  async syncAll(): Promise<SyncReport[]> {
    const docs = await this.deps.store.read((tx) => tx.listDocs(LINK_COLLECTION));
    const out: SyncReport[] = [];
    for (const d of docs) {
      const link = sheetLinkSchema.parse(d.value);
      if (link.paused) continue;
      try {
        out.push(await this.syncLink(link.id, { dryRun: false }));
      } catch {
        // Recorded on the link by syncLink; one broken sheet never stops the others.
      }
    }
    return out;
  }

  async sync(actor: Actor, id: string, options: { dryRun: boolean }): Promise<SyncReport> {
    requireRole(actor, ['reviewer', 'admin'], '同步表格', 'sync a sheet');
    requireTeam(actor, (await this.deps.store.read((tx) => loadLink(tx, id))).team);
    return this.syncLink(id, options);
  }

  async syncLink(id: string, options: { dryRun: boolean }): Promise<SyncReport> {
    if (this.running.has(id)) {
      throw new DomainError(
        problem('sheets.sync_running', `表格链接 ${id} 正在同步`, `Sheet link ${id} is already syncing`),
      );
    }
    this.running.add(id);
    try {
      const link = await this.deps.store.read((tx) => loadLink(tx, id));
      try {
        const report = await this.run(link, options);
        if (!options.dryRun)
          await this.saveLink(id, (l) => ({
            ...l,
            error: undefined,
            lastSyncAt: this.deps.clock().toISOString(),
            lastCalls: report.calls,
          }));
        return report;
      } catch (e) {
        if (e instanceof DomainError && !options.dryRun) {
          await this.saveLink(id, (l) => ({
            ...l,
            error: {
              code: e.code,
              message: e.message,
              messageEn: e.messageEn,
              at: this.deps.clock().toISOString(),
            },
          }));
        }
        throw e;
      }
    } finally {
      this.running.delete(id);
    }
  }

  private async saveLink(id: string, update: (l: SheetLink) => SheetLink): Promise<void> {
    await this.deps.store.write(async (tx) => {
      const raw = await tx.getDoc(LINK_COLLECTION, id);
      if (raw === undefined) return; // unlinked meanwhile
      const next = update(sheetLinkSchema.parse(raw));
      await tx.putDoc(LINK_COLLECTION, id, JSON.parse(JSON.stringify(next)) as unknown);
    });
  }

  private async run(link: SheetLink, options: { dryRun: boolean }): Promise<SyncReport> {
    const client = this.client();
    const report: SyncReport = {
      link: link.id,
      skipped: false,
      registered: 0,
      changed: 0,
      refused: 0,
      invalid: 0,
      notRegistered: 0,
      notRegisteredRows: [],
      notRegisteredTruncated: false,
      hints: [],
      calls: 0,
      dryRun: options.dryRun,
    };
    const version = await client.getVersion(link.spreadsheetId);
    report.calls++;
    // A link synced before the last read's rows were kept reads once more, so that its report does
    // not say the tab holds none.
    if (version.version === link.lastVersion && link.lastRead !== undefined) {
      const { at, notRegisteredRows, notRegistered } = link.lastRead;
      return {
        ...report,
        skipped: true,
        ...notRegisteredOf(notRegisteredRows, notRegistered),
        notRegisteredAsOf: at,
      };
    }
    const readAt = this.deps.clock().toISOString();

    // Values, notes and row keys in one read; the tab's id comes with it.
    const read = await client.readGrid(link.spreadsheetId, wholeTab(link.sheet), { notes: true });
    report.calls++;
    this.tabIds.set(link.id, read.sheetId);
    const owner = await this.deps.store.read((tx) => tx.getUserByName(link.owner));
    if (owner === undefined || owner.disabled === true) {
      // A disabled owner has left (R38): rows filed in their name would be protected for nobody.
      throw new DomainError(
        problem(
          'sheets.owner_unknown',
          `链接所有人 ${link.owner} 已不存在或已停用：请取消链接，以在用用户为所有人重新链接`,
          `The link's owner ${link.owner} no longer exists or is disabled: unlink, and link again with an enabled owner`,
          'owner',
        ),
      );
    }
    const actor = actorOf(owner);
    const context = {
      referenceDate: dayOf(this.deps.clock()),
      policy: await this.deps.registrations.policy(),
      defaultRegistrant: link.owner,
    };
    const sheet = parseSheet(link, read, context);
    Object.assign(report, notRegisteredOf(sheet.notRegistered));
    // A dry run writes nothing: it shows the texts as planned from this read.
    if (options.dryRun) report.hints = sheet.hints;
    if (link.fieldColumns.registrant !== undefined) await this.checkRegistrants(link, sheet.rows, context);
    const bound = await this.boundKeys(link, sheet.facts, new Map());
    const identities = identifyRows(sheet.facts, bound);

    /** What each row is to show, by the row it was read on. */
    const desired = new Map<number, Annotation>();
    const fresh: { row: number; key: string; hash: string; submission: SheetRowRead['submission'] }[] = [];
    const { claims, states, records } = await this.rowsKnown(link, sheet, identities, options.dryRun);
    const ownerRowOf = new Map<string, number>();
    for (const f of sheet.facts)
      if (f.no !== null && identities.get(f.row)?.owner === true) ownerRowOf.set(f.no, f.row);
    for (const r of sheet.rows) {
      const id = identities.get(r.row)!;
      const hash = sheet.hashes.get(r.row)!;
      /** The hash a build before 2026-12-08 took of this row (placeholders as typed), when it differs. */
      const legacyHash = sheet.legacyHashes.get(r.row);
      const cells = inputCells(r.submission);
      const claim =
        id.key === undefined
          ? undefined
          : (claims.get(claimKey(id.key, hash)) ??
            (legacyHash === undefined ? undefined : claims.get(claimKey(id.key, legacyHash))));
      if (r.registrationNo !== null) {
        if (
          claim !== undefined &&
          claim.no === undefined &&
          claim.cells.registrationNo === r.registrationNo
        ) {
          // The number is one we wrote as this row's duplicate result: the row is not that registration's.
          desired.set(r.row, claim);
          continue;
        }
        if (!id.owner) {
          // A copied row carries a number that is not its own: a new row, flagged, never applied to that record.
          desired.set(
            r.row,
            flagged(
              r.registrationNo,
              `编号与第 ${ownerRowOf.get(r.registrationNo) ?? '?'} 行重复：复制的行请清空报备编号后作为新行提交`,
              link,
            ),
          );
          continue;
        }
        const outcome = await registeredRow(
          this.deps,
          link,
          actor,
          r.registrationNo,
          { state: states.get(r.registrationNo), current: records.get(r.registrationNo) },
          cells,
          { hash, legacy: legacyHash },
          id.keyed ? id.key : undefined,
          options.dryRun,
          r.errors,
        );
        if (outcome === null) continue;
        if (outcome.current === true) {
          // Rewritten only when its status or protection end moved: what else the row shows (a
          // conflict's explanation, hints) stays as written while the status stands.
          if (!showsStatusOf(link, read, r.row, outcome.write)) desired.set(r.row, outcome.write);
          continue;
        }
        if (outcome.invalid === true) report.invalid++;
        else if (outcome.refused) report.refused++;
        else if (outcome.restored !== true) report.changed++;
        desired.set(r.row, outcome.write);
        continue;
      }
      if (r.errors.length > 0) {
        report.invalid++;
        desired.set(r.row, annotateRow({ status: 'invalid', errors: r.errors, warnings: [], conflicts: [] }));
        continue;
      }
      if (claim !== undefined) {
        // Exactly once: registered by an earlier sync whose write-back was lost; written back from
        // the claim, never submitted again.
        desired.set(r.row, claim);
        continue;
      }
      fresh.push({ row: r.row, key: id.key!, hash, submission: r.submission });
    }

    if (fresh.length > 0) {
      const submissions = fresh.map((f) => ({ ...f.submission, clientRowId: f.row }));
      const keys = fresh.map((f) => claimKey(f.key, f.hash));
      const results = options.dryRun
        ? await this.deps.registrations.check(actor, submissions)
        : (
            await this.deps.registrations.submit(actor, submissions, {
              idempotencyKey: `sheets:${link.id}:${hashOf(keys)}`,
              body: keys,
            })
          ).results;
      const rowByNo = new Map<string, number>();
      results.forEach((res, i) => {
        if (res.registrationNo !== undefined) rowByNo.set(res.registrationNo, fresh[i]!.row);
      });
      const newClaims: [string, Claim, string | undefined, string, Partial<Record<Field, CellInput>>][] = [];
      results.forEach((res, i) => {
        const f = fresh[i]!;
        const ann = annotateRow(outcomeOfResult(f.row, res, rowByNo).annotation);
        desired.set(f.row, ann);
        // A duplicate shows the number it duplicates: nothing was registered for it.
        const saved =
          res.registrationNo !== undefined && res.status !== 'duplicate' ? res.registrationNo : undefined;
        if (res.status === 'invalid') report.invalid++;
        else if (saved !== undefined) report.registered++;
        newClaims.push([
          claimKey(f.key, f.hash),
          {
            ...(saved ? { no: saved } : {}),
            cells: ann.cells,
            fill: ann.fill,
            notes: ann.notes,
            hash: f.hash,
          },
          saved,
          f.key,
          inputCells(f.submission),
        ]);
      });
      if (!options.dryRun) {
        await this.deps.store.write(async (tx) => {
          for (const [id, claim, no, key, cells] of newClaims) {
            await tx.putDoc(
              CLAIM_COLLECTION,
              rowKey(link.id, id),
              JSON.parse(JSON.stringify(claim)) as unknown,
            );
            if (no !== undefined)
              await tx.putDoc(ROW_COLLECTION, rowKey(link.id, no), { hash: claim.hash, cells, key });
          }
        });
      }
    }

    // Only rows whose result differs from what they show (or that still lack their key) are written:
    // a sync with nothing new writes nothing, so the next one stops at the version.
    const writes: PendingWrite[] = [];
    for (const [row, write] of desired) {
      const id = identities.get(row)!;
      const needsKey = !id.owner && !id.keyed;
      if (id.identity === undefined) continue;
      const notes = changedNotes(link, sheet, read, row, write);
      if (needsKey || notes.length > 0 || !showsCells(link, read, row, write))
        writes.push({ identity: id.identity, write, byContent: needsKey, notes });
    }
    // Rows that are no registration get why in 提示, only where it is not shown yet (so a sync with
    // nothing new still writes nothing).
    if (!options.dryRun && (writes.length > 0 || sheet.hints.length > 0)) {
      const placed = await this.relocate(link, read, context, writes, bound, {
        hints: sheet.hints.length > 0,
        notRegistered: sheet.notRegistered.length > 0,
      });
      report.calls++;
      report.calls += await this.writeBack(link, placed.width, placed.writes, placed.hints);
      report.hints = placed.hints;
      if (placed.notRegistered !== undefined) Object.assign(report, notRegisteredOf(placed.notRegistered));
    }
    if (!options.dryRun) {
      // Our own write-back moved the version: the next sync reads again, finds every row showing its
      // result, writes nothing, and the one after stops at the version. The notes written from now
      // on are marked, and the unmarked ones of an older build on the rows written are replaced.
      await this.saveLink(link.id, (l) => ({
        ...l,
        lastVersion: version.version,
        notesMarked: true,
        lastRead: {
          at: readAt,
          notRegistered: report.notRegistered,
          notRegisteredRows: report.notRegisteredRows,
        },
      }));
    }
    return report;
  }

  /**
   * What the store holds for the tab's rows, in one read whatever their number: the claims of rows
   * with a key, the state of every registered row, and the record of each registered row whose
   * cells did not change since (shown as it stands now). On PostgreSQL that is a statement per
   * collection and one for the records, where a read per row cost a round trip each.
   */
  private async rowsKnown(
    link: SheetLink,
    sheet: ParsedSheet,
    identities: ReturnType<typeof identifyRows>,
    dryRun: boolean,
  ): Promise<{
    claims: Map<string, Claim>;
    states: Map<string, RowState>;
    records: Map<string, StoredRecord>;
  }> {
    const ofLink = { prefix: rowKey(link.id, '') };
    return this.deps.store.read(async (tx) => {
      const claims = new Map<string, Claim>();
      const wanted = new Set<string>();
      for (const r of sheet.rows) {
        const key = identities.get(r.row)?.key;
        if (key === undefined) continue;
        wanted.add(rowKey(link.id, claimKey(key, sheet.hashes.get(r.row)!)));
        const legacy = sheet.legacyHashes.get(r.row);
        if (legacy !== undefined) wanted.add(rowKey(link.id, claimKey(key, legacy)));
      }
      for (const doc of await tx.listDocs(CLAIM_COLLECTION, ofLink))
        if (wanted.has(doc.key))
          claims.set(doc.key.slice(ofLink.prefix.length), claimSchema.parse(doc.value));
      const states = new Map<string, RowState>();
      const numbered = new Map<string, string>();
      for (const r of sheet.rows)
        if (r.registrationNo !== null) numbered.set(rowKey(link.id, r.registrationNo), r.registrationNo);
      for (const doc of await tx.listDocs(ROW_COLLECTION, ofLink)) {
        const no = numbered.get(doc.key);
        if (no !== undefined) states.set(no, rowStateSchema.parse(doc.value));
      }
      const records = new Map<string, StoredRecord>();
      // A dry run shows no record's current state (registeredRow): nothing to read for it.
      if (dryRun) return { claims, states, records };
      const unchanged = [
        ...new Set(
          sheet.rows.flatMap((r) =>
            r.registrationNo !== null &&
            keepsInputs(states.get(r.registrationNo), {
              hash: sheet.hashes.get(r.row)!,
              legacy: sheet.legacyHashes.get(r.row),
            })
              ? [r.registrationNo]
              : [],
          ),
        ),
      ];
      await tx.prefetchRecordsByNo?.(unchanged);
      for (const no of unchanged) {
        const record = await tx.getRecord(no);
        if (record !== undefined) records.set(no, record);
      }
      return { claims, states, records };
    });
  }

  /**
   * Issue 11: a new row's 报备人 must be an enabled user of the link's team. The owner registers the
   * rows and may register for anyone, so without this check a typo, a disabled user or another
   * team's colleague would be registered under no team or under the other team. Such a row is
   * invalid with a note on 报备人. A blank 报备人 is missing (core/row.ts registrantOf, as in the import
   * and the add-in); the owner stands in only for a sheet without the column, and was checked at link.
   */
  private async checkRegistrants(
    link: SheetLink,
    rows: readonly SheetRowRead[],
    context: Parameters<typeof readRows>[2],
  ): Promise<void> {
    const named = new Map<SheetRowRead, string>();
    for (const r of rows) {
      if (r.registrationNo !== null || r.submission.registrant === undefined) continue;
      const name = registrantOf(r.submission, context);
      if ('value' in name && name.value !== link.owner) named.set(r, name.value);
    }
    if (named.size === 0) return;
    const users = await this.deps.store.read(async (tx) => {
      const out = new Map<string, User | undefined>();
      for (const name of new Set(named.values())) out.set(name, await tx.getUserByName(name));
      return out;
    });
    for (const [r, name] of named) {
      const user = users.get(name);
      if (user !== undefined && user.disabled !== true && user.team === link.team) continue;
      const [why, whyEn] =
        user === undefined
          ? ['没有这个用户', 'there is no such user']
          : user.disabled === true
            ? ['该用户已停用', 'the user is disabled']
            : [`该用户属于${user.team ?? '无团队'}`, `the user is of ${user.team ?? 'no team'}`];
      r.errors.push(
        problem(
          'sheets.registrant_not_in_team',
          `报备人「${name}」不是团队 ${link.team} 的在用用户（${why}）：请填写本团队的用户，例如链接所有人 ${link.owner}`,
          `报备人 "${name}" is not an enabled user of team ${link.team} (${whyEn}): name a user of the team, such as the link's owner ${link.owner}`,
          'registrant',
        ),
      );
    }
  }

  /**
   * The row keys registration numbers were bound to, for numbers found on more than one row (the
   * rest need none): which of the rows is the registration's own.
   */
  private async boundKeys(
    link: SheetLink,
    facts: readonly RowFacts[],
    known: ReadonlyMap<string, string>,
  ): Promise<Map<string, string>> {
    const count = new Map<string, number>();
    for (const f of facts) if (f.no !== null) count.set(f.no, (count.get(f.no) ?? 0) + 1);
    const wanted = [...count].filter(([no, n]) => n > 1 && !known.has(no)).map(([no]) => no);
    const out = new Map(known);
    if (wanted.length === 0) return out;
    await this.deps.store.read(async (tx) => {
      for (const no of wanted) {
        const raw = await tx.getDoc(ROW_COLLECTION, rowKey(link.id, no));
        const key = raw === undefined ? undefined : rowStateSchema.parse(raw).key;
        if (key !== undefined) out.set(no, key);
      }
    });
    return out;
  }

  /**
   * Re-reads the identity column (row keys come with it) just before writing, and puts each result on
   * the row holding its identity now: a sort or insert between the read and the write moves results
   * with their rows. Rows not yet keyed are known by their cells, so while any is to be written the
   * whole tab is re-read instead. A result whose row is gone (deleted meanwhile) is not written.
   * The 提示 texts of rows that are no registration follow no key (a note row has none): with
   * `wanted.hints` the whole tab is re-read and they are planned from what it holds now. The rows
   * that are no registration are reported where they are now for the same reason: with
   * `wanted.notRegistered` (the first read found some) the whole tab is re-read too — the number
   * column cannot tell that a note or total row moved (rows inserted above it hold no number), so
   * the first read's row numbers could not be vouched for. That costs bytes, not a call.
   */
  private async relocate(
    link: SheetLink,
    before: GridRead,
    context: Parameters<typeof readRows>[2],
    writes: readonly PendingWrite[],
    bound: ReadonlyMap<string, string>,
    wanted: { hints: boolean; notRegistered: boolean },
  ): Promise<{
    width: number;
    writes: PlacedWrite[];
    hints: HintWrite[];
    /** The rows that are no registration as the whole tab's re-read found them (absent without one). */
    notRegistered: NotRegisteredRow[] | undefined;
  }> {
    const byContent = wanted.hints || wanted.notRegistered || writes.some((w) => w.byContent);
    const column = columnLetter(link.resultColumns.registrationNo - 1);
    const range = byContent ? wholeTab(link.sheet) : `${wholeTab(link.sheet)}!${column}:${column}`;
    const now = await this.client().readGrid(link.spreadsheetId, range, { notes: false });
    const parsed = byContent ? parseSheet(link, now, context) : undefined;
    const facts = parsed !== undefined ? parsed.facts : numberColumnFacts(link, now);
    const identities = identifyRows(facts, await this.boundKeys(link, facts, bound));
    const here = rowsByIdentity(identities);
    const placed: PlacedWrite[] = [];
    for (const w of writes) {
      const id = here.get(w.identity);
      if (id === undefined) continue;
      placed.push({
        row: id.row,
        write: w.write,
        createKey: !id.owner && !id.keyed ? id.key : undefined,
        notes: w.notes,
      });
    }
    const width = Math.max(
      ...Object.values(link.resultColumns),
      ...before.rows.map((r) => r.values.length),
      ...now.rows.map((r) => r.values.length),
    );
    return {
      width,
      writes: placed,
      hints: wanted.hints ? (parsed?.hints ?? []) : [],
      notRegistered: parsed?.notRegistered,
    };
  }

  /** The results written to the tab (no call, not even for the tab's id, when nothing is to be written). */
  private async writeBack(
    link: SheetLink,
    width: number,
    writes: readonly PlacedWrite[],
    hints: readonly HintWrite[] = [],
  ): Promise<number> {
    if (writes.length === 0 && hints.length === 0) return 0;
    return writeResults(this.client(), link, await this.tabId(link), width, writes, hints);
  }

  /** The tab's numeric id, derived from the link (kept on the link after the first look). */
  private readonly tabIds = new Map<string, number>();
  private async tabId(link: SheetLink): Promise<number> {
    const known = this.tabIds.get(link.id);
    if (known !== undefined) return known;
    // Not counted in the four calls of a sync: asked once per link per process.
    const info = await this.client().getSpreadsheet(link.spreadsheetId);
    const tab = info.tabs.find((t) => t.title === link.sheet);
    if (tab === undefined) throw tabMissing(link);
    this.tabIds.set(link.id, tab.sheetId);
    return tab.sheetId;
  }
}

type CellInput = string | number | boolean;
interface PendingWrite {
  identity: string;
  write: Annotation;
  /** The row has no key yet: it is found again by its cells. */
  byContent: boolean;
  /** Notes to change (notes move with their cells, so this holds wherever the row went). */
  notes: NoteWrite[];
}

/**
 * The rows that are no registration as a report lists them: all counted, the first
 * NOT_REGISTERED_ROWS_KEPT listed. `total` is the count a link kept beside its rows (absent on a link
 * stored before the cap, which kept every row).
 */
function notRegisteredOf(
  rows: readonly NotRegisteredRow[],
  total = rows.length,
): Pick<SyncReport, 'notRegistered' | 'notRegisteredRows' | 'notRegisteredTruncated'> {
  const listed = rows.slice(0, NOT_REGISTERED_ROWS_KEPT);
  return { notRegistered: total, notRegisteredRows: listed, notRegisteredTruncated: total > listed.length };
}

/** The exactly-once ledger's entry for a row: its key and the inputs it was submitted with. */
function claimKey(key: string, hash: string): string {
  return `${key}|${hash}`;
}

export { GoogleApiError };

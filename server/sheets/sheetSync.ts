/**
 * Google Sheets sync (issue 11, and issue 15's sheet side): a linked tab is read, its new rows go
 * through the same submit as the add-in (shared row evaluation, idempotency), edited registered
 * rows through the same PATCH path (ChangeService), and the results are written back with the
 * palette of core/annotation. Rows are known by number or row key (sheetRowIdentity), never by
 * position. Calls per sync: Drive files.get (version) — alone when nothing changed; one
 * spreadsheets.get (values, notes, row keys); and only when some row's result changed, a re-read of
 * the identity column, one values.batchUpdate and one spreadsheets.batchUpdate (fills, notes, keys).
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { annotateRow, FILLS, type FillName } from '../../core/annotation.js';
import { dayOf } from '../../core/day.js';
import { parseFieldCell, registrantOf } from '../../core/row.js';
import { DomainError, problem, type Problem } from '../../core/problem.js';
import {
  describeSheet,
  NOTE_MARKER,
  noteWithOurs,
  outcomeOfResult,
  planLayout,
  readRows,
  resultColumnOfHeader,
  type SheetGrid,
  type SheetSetup,
} from '../../core/sheetPlan.js';
import { RESULT_COLUMNS, type Field, type ResultColumn, type StoredRecord } from '../../core/schema.js';
import { actorOf, forbidden, requireRole, type Actor } from '../services/actor.js';
import type { RegistrationService } from '../services/registrationService.js';
import type { ChangeService } from '../services/changeService.js';
import type { Store, User } from '../store/store.js';
import { a1Range, columnLetter, quoteSheetTitle } from './a1Range.js';
import { GoogleApiError } from './googleApiError.js';
import {
  GOOGLE_MAX_REQUEST_BYTES,
  type CellValue,
  type GoogleSheetsClient,
  type GridRead,
  type GridRow,
  type sheets_v4,
  type ValuesWrite,
} from './googleClient.js';
import { planLinkSetup, type LinkSetupReport } from './sheetLinkSetup.js';
import {
  CLAIM_COLLECTION,
  claimSchema,
  LINK_COLLECTION,
  loadLink,
  ROW_COLLECTION,
  rowKey,
  rowStateSchema,
  sheetLinkSchema,
  type Claim,
  type RowState,
  type SheetLink,
} from './sheetLinks.js';
import { identifyRows, ROW_KEY_METADATA, rowsByIdentity, type RowFacts } from './sheetRowIdentity.js';

export const linkRequestSchema = z
  .object({
    /** A spreadsheet URL (…/spreadsheets/d/ID/…) or its id. */
    spreadsheet: z.string().trim().min(1).max(500),
    sheet: z.string().trim().min(1).max(100),
    team: z.string().trim().min(1).max(100),
    owner: z.string().trim().min(1).max(100).optional(),
  })
  .strict();
export type LinkRequest = z.infer<typeof linkRequestSchema>;

export interface SyncReport {
  link: string;
  skipped: boolean;
  registered: number;
  changed: number;
  refused: number;
  invalid: number;
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

const SPREADSHEET_URL = /\/spreadsheets\/d\/([A-Za-z0-9_-]+)/;

export function spreadsheetIdOf(text: string): string {
  const m = SPREADSHEET_URL.exec(text);
  return m?.[1] ?? text;
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

  async link(
    actor: Actor,
    request: LinkRequest,
  ): Promise<SheetLink & { shareWith: string; mapping: SheetSetup['columns']; setup: LinkSetupReport }> {
    requireRole(actor, ['reviewer', 'admin'], '链接表格', 'link a sheet');
    requireTeam(actor, request.team);
    const client = this.client();
    const spreadsheetId = spreadsheetIdOf(request.spreadsheet);
    const owner = request.owner ?? actor.name;
    const existing = await this.deps.store.read((tx) => tx.listDocs(LINK_COLLECTION));
    for (const e of existing) {
      const l = sheetLinkSchema.parse(e.value);
      if (l.spreadsheetId === spreadsheetId && l.sheet === request.sheet) {
        throw new DomainError(
          problem(
            'sheets.already_linked',
            `该表格的工作表「${request.sheet}」已链接（${l.id}）`,
            `Tab "${request.sheet}" of this spreadsheet is already linked (${l.id})`,
            'spreadsheet',
          ),
          { link: l.id },
        );
      }
    }
    const ownerUser = await this.deps.store.read((tx) => tx.getUserByName(owner));
    if (
      ownerUser === undefined ||
      ownerUser.disabled === true ||
      (ownerUser.team !== undefined && ownerUser.team !== request.team)
    ) {
      throw new DomainError(
        problem(
          'sheets.owner_unknown',
          `${owner} 不是团队 ${request.team} 的在用用户`,
          `${owner} is not an enabled user of team ${request.team}`,
          'owner',
        ),
      );
    }
    // Access is checked now, with the account to share with named in the error (googleApiError).
    const version = await client.getVersion(spreadsheetId);
    const [read] = await client.batchGetValues(spreadsheetId, [wholeTab(request.sheet)]);
    const grid = read?.values ?? [];
    const setup = describeSheet(request.sheet, grid);
    if (setup === null) {
      throw new DomainError(
        problem(
          'sheets.no_header',
          `工作表「${request.sheet}」中找不到表头`,
          `No header row found in tab "${request.sheet}"`,
          'sheet',
        ),
      );
    }
    const layout = planLayout(grid, setup);
    const headers: Record<string, string> = {};
    const groups: Record<string, string> = {};
    for (const c of setup.columns) {
      if (c.field !== null || resultColumnOfHeader(c.header) !== null) headers[String(c.column)] = c.header;
      if (c.field !== null && c.group !== undefined) groups[String(c.column)] = c.group;
    }
    if (layout.missingResultColumns.length > 0) {
      await client.batchUpdateValues(
        spreadsheetId,
        layout.missingResultColumns.map((col) => {
          const column = layout.resultColumns[col];
          headers[String(column)] = RESULT_COLUMNS[col].zh;
          return {
            range: a1Range(request.sheet, {
              startRow: setup.headerRow - 1,
              endRow: setup.headerRow,
              startColumn: column - 1,
              endColumn: column,
            }),
            values: [[RESULT_COLUMNS[col].zh]],
          };
        }),
      );
    }
    const link: SheetLink = {
      id: `sheet-${randomUUID().slice(0, 8)}`,
      spreadsheetId,
      sheet: request.sheet,
      team: request.team,
      owner,
      createdBy: actor.name,
      createdAt: this.deps.clock().toISOString(),
      paused: false,
      headerRow: setup.headerRow,
      headers,
      ...(Object.keys(groups).length > 0 ? { groups } : {}),
      fieldColumns: layout.fieldColumns,
      resultColumns: layout.resultColumns,
      notesMarked: true,
    };
    void version; // the first sync reads the rows whatever the version
    // Protection and validation in ONE spreadsheets.batchUpdate (sheetLinkSetup), before the link is
    // stored: a failure leaves no link, and linking again finds our protected range and keeps it.
    const tab = (await client.getSpreadsheet(spreadsheetId)).tabs.find((t) => t.title === link.sheet);
    if (tab === undefined) throw tabMissing(link);
    const prepared = planLinkSetup({ ...link, sheetId: tab.sheetId, protectedRanges: tab.protectedRanges });
    if (prepared.requests.length > 0) await client.batchUpdate(spreadsheetId, prepared.requests);
    await this.deps.store.write((tx) => tx.putDoc(LINK_COLLECTION, link.id, link));
    return { ...link, shareWith: client.identity, mapping: setup.columns, setup: prepared.report };
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
      calls: 0,
      dryRun: options.dryRun,
    };
    const version = await client.getVersion(link.spreadsheetId);
    report.calls++;
    if (version.version === link.lastVersion) return { ...report, skipped: true };

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
      const cells = inputCells(r.submission);
      const claim = id.key === undefined ? undefined : claims.get(claimKey(id.key, hash));
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
        const outcome = await this.registeredRow(
          link,
          actor,
          r.registrationNo,
          { state: states.get(r.registrationNo), current: records.get(r.registrationNo) },
          cells,
          hash,
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
    if (!options.dryRun && writes.length > 0) {
      const placed = await this.relocate(link, read, context, writes, bound);
      report.calls++;
      report.calls += await this.writeBack(link, placed.width, placed.writes);
    }
    if (!options.dryRun) {
      // Our own write-back moved the version: the next sync reads again, finds every row showing its
      // result, writes nothing, and the one after stops at the version. The notes written from now
      // on are marked, and the unmarked ones of an older build on the rows written are replaced.
      await this.saveLink(link.id, (l) => ({ ...l, lastVersion: version.version, notesMarked: true }));
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
        if (key !== undefined) wanted.add(rowKey(link.id, claimKey(key, sheet.hashes.get(r.row)!)));
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
            r.registrationNo !== null && states.get(r.registrationNo)?.hash === sheet.hashes.get(r.row)
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
   * invalid with a note on 报备人. The owner, who stands in for a blank 报备人, was checked at link.
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
          `报备人「${name}」不是团队 ${link.team} 的在用用户（${why}）：请填写本团队的用户，或留空由 ${link.owner} 报备`,
          `报备人 "${name}" is not an enabled user of team ${link.team} (${whyEn}): name a user of the team, or leave it blank for ${link.owner}`,
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
   */
  private async relocate(
    link: SheetLink,
    before: GridRead,
    context: Parameters<typeof readRows>[2],
    writes: readonly PendingWrite[],
    bound: ReadonlyMap<string, string>,
  ): Promise<{ width: number; writes: PlacedWrite[] }> {
    const byContent = writes.some((w) => w.byContent);
    const column = columnLetter(link.resultColumns.registrationNo - 1);
    const range = byContent ? wholeTab(link.sheet) : `${wholeTab(link.sheet)}!${column}:${column}`;
    const now = await this.client().readGrid(link.spreadsheetId, range, { notes: false });
    const facts = byContent ? parseSheet(link, now, context).facts : numberColumnFacts(link, now);
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
    return { width, writes: placed };
  }

  /** A row holding a registration number: unchanged, or its edited inputs go through PATCH. */
  private async registeredRow(
    link: SheetLink,
    actor: Actor,
    no: string,
    /**
     * The row's state as the sync read it (rowsKnown), and the record when the row's cells had not
     * changed: no store read of its own for a row that only shows its record.
     */
    known: { state: RowState | undefined; current: StoredRecord | undefined },
    cells: Partial<Record<Field, string | number | boolean>>,
    hash: string,
    rowKeyOnSheet: string | undefined,
    dryRun: boolean,
    rowErrors: readonly Problem[],
  ): Promise<{
    refused: boolean;
    restored?: boolean;
    invalid?: boolean;
    /** Nothing changed in the row: `write` is the record as it stands now. */
    current?: boolean;
    write: Annotation;
  } | null> {
    const key = rowKey(link.id, no);
    const state = known.state;
    if (state === undefined) {
      // A number this link did not write (typed, or from Excel): adopted as the row's baseline, bound
      // to the row's key when it has one (so a later copy of the row is told from it) — but only a
      // registration of the link's team and of this row's customer. Any other number is flagged and
      // not adopted: a later edit of the row would otherwise PATCH someone else's record.
      const record = await this.deps.store.read((tx) => tx.getRecord(no));
      const name = parseFieldCell('customerName', cells.customerName, dayOf(this.deps.clock()));
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
        await this.deps.store.write((tx) =>
          tx.putDoc(ROW_COLLECTION, key, { hash, cells, ...(rowKeyOnSheet ? { key: rowKeyOnSheet } : {}) }),
        );
      return null;
    }
    const current = known.current;
    if (state.hash === hash && state.refusedHash !== undefined) {
      // Put back as it was after a refused change: the 已变更，未生效 mark must go, or it stays forever.
      if (dryRun) return null;
      await this.deps.store.write((tx) =>
        tx.putDoc(ROW_COLLECTION, key, {
          hash,
          cells: state.cells,
          ...(state.key ? { key: state.key } : {}),
        }),
      );
      if (current === undefined) return null;
      return { refused: false, restored: true, write: recordState(current) };
    }
    if (state.refusedHash === hash) return null;
    if (state.hash === hash) {
      // Unchanged in the sheet, maybe not in the service (reviewed, extended, ended): the row is to
      // show the record's status and protection end. The caller writes it only when those differ.
      if (dryRun) return null;
      if (current === undefined) return null;
      return { refused: false, current: true, write: recordState(current) };
    }
    const changes: Partial<Record<Field, string | number | boolean | null>> = {};
    for (const f of new Set([...Object.keys(state.cells), ...Object.keys(cells)]) as Set<Field>) {
      if (state.cells[f] !== cells[f]) changes[f] = cells[f] ?? null;
    }
    if (dryRun) return null;
    // An error value (#REF!, a broken formula) is left out of the row's cells, so its field would go
    // as null and empty the value on the record: such a row is refused here, never sent.
    const broken = rowErrors.find(
      (e) => e.code === 'cell.error_value' && e.field !== undefined && Object.hasOwn(changes, e.field),
    );
    const record = await this.deps.store.read((tx) => tx.getRecord(no));
    try {
      if (record === undefined)
        throw new DomainError(problem('registration.not_found', `没有报备 ${no}`, `No registration ${no}`));
      if (broken !== undefined) throw new DomainError(broken);
      const result = await this.deps.changes.change(
        actor,
        no,
        { changes, reason: '在 Google 表格中更改 / edited in the Google sheet' },
        record.version,
      );
      await this.deps.store.write((tx) =>
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
      await this.deps.store.write((tx) =>
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
   * One spreadsheets.batchUpdate for fills, the notes that change and the row keys of rows written
   * for the first time, then one values.batchUpdate for the result cells (each more only past
   * Google's ~2 MB request size). The key goes in with the row's fill and notes: no call of its own. Runs of
   * adjacent rows share one range of values and, with the same fill, one repeatCell. Returns the
   * calls made.
   */
  private async writeBack(link: SheetLink, width: number, writes: readonly PlacedWrite[]): Promise<number> {
    if (writes.length === 0) return 0;
    const client = this.client();
    const tabId = await this.tabId(link);
    const cols = Object.entries(link.resultColumns) as [ResultColumn, number][];
    const first = Math.min(...cols.map(([, c]) => c));
    const last = Math.max(...cols.map(([, c]) => c));
    const sorted = [...writes].sort((a, b) => a.row - b.row);
    const resultCells = (w: Annotation): (string | null)[] => {
      const values: (string | null)[] = [];
      for (let c = first; c <= last; c++) {
        const col = cols.find(([, n]) => n === c)?.[0];
        values.push(col === undefined ? null : w.cells[col]);
      }
      return values;
    };
    const data: ValuesWrite[] = [];
    for (const run of runs(sorted, () => true)) {
      data.push({
        range: a1Range(link.sheet, {
          startRow: run[0]!.row - 1,
          endRow: run[run.length - 1]!.row,
          startColumn: first - 1,
          endColumn: last,
        }),
        values: run.map((w) => resultCells(w.write)),
      });
    }
    const requests: sheets_v4.Schema$Request[] = [];
    for (const run of runs(sorted, (a, b) => a.write.fill === b.write.fill)) {
      requests.push({
        repeatCell: {
          range: {
            sheetId: tabId,
            startRowIndex: run[0]!.row - 1,
            endRowIndex: run[run.length - 1]!.row,
            startColumnIndex: 0,
            endColumnIndex: width,
          },
          cell: { userEnteredFormat: { backgroundColor: colorOf(run[0]!.write.fill) } },
          fields: 'userEnteredFormat.backgroundColor',
        },
      });
    }
    for (const { row, createKey, notes } of sorted) {
      if (createKey !== undefined) {
        // No metadataId: Google picks a free one. A retried request may leave a second copy of the
        // same key on the row, which reads the same.
        requests.push({
          createDeveloperMetadata: {
            developerMetadata: {
              metadataKey: ROW_KEY_METADATA,
              metadataValue: createKey,
              visibility: 'PROJECT',
              location: {
                dimensionRange: { sheetId: tabId, dimension: 'ROWS', startIndex: row - 1, endIndex: row },
              },
            },
          },
        });
      }
      for (const { column, content } of notes) {
        requests.push({
          updateCells: {
            range: {
              sheetId: tabId,
              startRowIndex: row - 1,
              endRowIndex: row,
              startColumnIndex: column - 1,
              endColumnIndex: column,
            },
            rows: [{ values: [{ note: content }] }],
            fields: 'note',
          },
        });
      }
    }
    // Keys, fills and notes first, numbers last: if the second call fails, the rows carry their keys
    // and the next sync finds their claims by key and writes the numbers; the other way round, rows
    // would hold numbers without keys or fills, and nothing would tell the next sync to finish them.
    const formatParts = chunks(requests);
    for (const part of formatParts) await client.batchUpdate(link.spreadsheetId, part);
    const valueParts = chunks(data);
    for (const part of valueParts) await client.batchUpdateValues(link.spreadsheetId, part);
    return valueParts.length + formatParts.length;
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

/** A registered row as its record stands: number, status and protection end, nothing to point out. */
function recordState(record: StoredRecord): Annotation {
  return annotateRow({
    status: record.status,
    registrationNo: record.no,
    protectedUntil: record.protectedUntil,
    errors: [],
    warnings: [],
    conflicts: [],
  });
}

/**
 * R34: a reviewer acts on their own team's links only — those `list` shows them (a reviewer without a
 * team, and administrators, on every team's). Else another team's reviewer could have rows registered
 * in this team's owner's name, or pause or remove its sync.
 */
function requireTeam(actor: Actor, team: string): void {
  if (actor.role === 'reviewer' && actor.team !== undefined && actor.team !== team)
    throw forbidden(`管理团队 ${team} 的表格链接`, `manage the sheet links of team ${team}`);
}

/** The tab's title alone is a range of all its cells: no column bound to outgrow the grid (Google refuses those). */
function wholeTab(sheet: string): string {
  return quoteSheetTitle(sheet);
}

function tabMissing(link: SheetLink): DomainError {
  return new DomainError(
    problem(
      'sheets.tab_missing',
      `工作表「${link.sheet}」已不存在（被删除或改名）`,
      `Tab "${link.sheet}" no longer exists (deleted or renamed)`,
      'sheet',
    ),
  );
}

/** A renamed or moved header stops the sync by name: results would otherwise land in wrong columns. */
function checkHeaders(link: SheetLink, grid: SheetGrid): void {
  const header = grid[link.headerRow - 1] ?? [];
  for (const [column, text] of Object.entries(link.headers)) {
    const now = header[Number(column) - 1];
    if (String(now ?? '').trim() !== text.trim()) {
      const at = `${columnLetter(Number(column) - 1)}${link.headerRow}`;
      throw new DomainError(
        problem(
          'sheets.header_changed',
          `表头 ${at} 原为「${text}」，现为「${String(now ?? '')}」：请改回，或取消链接后重新链接`,
          `Header ${at} was "${text}" and is now "${String(now ?? '')}": restore it, or unlink and link again`,
          at,
        ),
      );
    }
  }
}

function setupOf(link: SheetLink, grid: SheetGrid): SheetSetup {
  const byColumn = new Map<number, Field>();
  for (const [f, c] of Object.entries(link.fieldColumns) as [Field, number][]) byColumn.set(c, f);
  const columns: SheetSetup['columns'] = Object.entries(link.headers).map(([c, header]) => ({
    column: Number(c),
    header,
    ...(link.groups?.[c] !== undefined ? { group: link.groups[c] } : {}),
    field: byColumn.get(Number(c)) ?? null,
    confidence: 1,
    alternatives: [],
  }));
  // The link keeps only the columns it maps; the header's other columns (序号, where a template
  // marks its 示例 row) are read as they stand, so rows are classified as the add-in and import do.
  (grid[link.headerRow - 1] ?? []).forEach((cell, i) => {
    const header = typeof cell === 'string' ? cell.trim() : '';
    if (header === '' || link.headers[String(i + 1)] !== undefined || resultColumnOfHeader(header) !== null)
      return;
    columns.push({ column: i + 1, header, field: null, confidence: 1, alternatives: [] });
  });
  columns.sort((x, y) => x.column - y.column);
  return {
    sheetName: link.sheet,
    headerRow: link.headerRow,
    columns,
    dataRows: Math.max(0, grid.length - link.headerRow),
  };
}

function inputCells(submission: Record<string, unknown>): Partial<Record<Field, string | number | boolean>> {
  const out: Partial<Record<Field, string | number | boolean>> = {};
  for (const [k, v] of Object.entries(submission)) {
    if (k === 'clientRowId') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k as Field] = v;
  }
  return out;
}

function hashOf(value: unknown): string {
  const canonical = JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/** A copied row's mark (or a number not adopted): the number stays as typed, the row says why and what to do. */
function flagged(no: string, message: string, link: SheetLink, status = '编号重复'): Annotation {
  const fields = Object.keys(link.fieldColumns) as Field[];
  const noteOn = fields.includes('customerName') ? 'customerName' : fields[0];
  return {
    cells: { registrationNo: no, status, protectedUntil: '', conflict: message, hint: '' },
    fill: 'red',
    notes: noteOn === undefined ? {} : { [noteOn]: message },
  };
}

type CellInput = string | number | boolean;
type SheetRowRead = ReturnType<typeof readRows>[number];
type ParsedSheet = ReturnType<typeof parseSheet>;
/** What a row is to show: its result cells, fill and notes (core/annotation's RowAnnotation). */
type Annotation = {
  cells: Record<ResultColumn, string>;
  fill: string;
  notes: Partial<Record<Field, string>>;
};
interface PendingWrite {
  identity: string;
  write: Annotation;
  /** The row has no key yet: it is found again by its cells. */
  byContent: boolean;
  /** Notes to change (notes move with their cells, so this holds wherever the row went). */
  notes: NoteWrite[];
}
interface PlacedWrite {
  row: number;
  write: Annotation;
  /** The row key to store on the row with this write (rows written for the first time). */
  createKey: string | undefined;
  notes: NoteWrite[];
}
/** A cell's whole note as it is to read: a person's text, then ours after NOTE_MARKER ('' clears it). */
interface NoteWrite {
  column: number;
  content: string;
}

/** Runs of adjacent rows (sorted) in which each neighbour pair also passes `same`. */
function runs(
  sorted: readonly PlacedWrite[],
  same: (a: PlacedWrite, b: PlacedWrite) => boolean,
): PlacedWrite[][] {
  const out: PlacedWrite[][] = [];
  for (const w of sorted) {
    const run = out[out.length - 1];
    const prev = run?.[run.length - 1];
    if (run !== undefined && prev !== undefined && prev.row + 1 === w.row && same(prev, w)) run.push(w);
    else out.push([w]);
  }
  return out;
}

const REGISTRATION_NO = /^BB-\d{4}-\d{6,}$/;

/** The exactly-once ledger's entry for a row: its key and the inputs it was submitted with. */
function claimKey(key: string, hash: string): string {
  return `${key}|${hash}`;
}

function gridRowAt(read: GridRead, row: number): GridRow | undefined {
  return read.rows[row - 1 - read.startRow];
}

function rowKeyAt(read: GridRead, row: number): string | undefined {
  return gridRowAt(read, row)?.metadata.find((m) => m.key === ROW_KEY_METADATA)?.value;
}

/**
 * A grid read as core reads sheets: rows from row 1, trailing empty rows left out (as values.batchGet
 * leaves them out); the link's headers checked; each data row parsed, hashed and given its facts.
 */
function parseSheet(
  link: SheetLink,
  read: GridRead,
  context: Parameters<typeof readRows>[2],
): {
  rows: SheetRowRead[];
  hashes: Map<number, string>;
  facts: RowFacts[];
  /** The second phone column (电话 beside a mapped 手机), found in the header at each read. */
  phoneFallbackColumn: number | undefined;
  /** By row, the fields read from another column than their own (the phone from 电话). */
  readFrom: Map<number, Partial<Record<Field, number>>>;
} {
  const grid: CellValue[][] = [];
  const errorCells: { row: number; column: number; value: string }[] = [];
  for (let i = 0; i < read.startRow; i++) grid.push([]);
  read.rows.forEach((r, i) => {
    grid.push(r.values);
    for (const [column, value] of r.errors) errorCells.push({ row: read.startRow + i + 1, column, value });
  });
  while (grid.length > 0 && grid[grid.length - 1]!.every((c) => c === '')) grid.pop();
  checkHeaders(link, grid);
  const layout = planLayout(grid, setupOf(link, grid));
  const rows = readRows(layout, grid, context, { errorCells });
  const hashes = new Map(rows.map((r) => [r.row, hashOf(inputCells(r.submission))]));
  const facts: RowFacts[] = rows.map((r) => ({
    row: r.row,
    no: r.registrationNo,
    metadataKey: rowKeyAt(read, r.row),
    hash: hashes.get(r.row),
  }));
  // Rows that are not data (inputs cleared, results left) but hold a number or a key count as the
  // number column's re-read counts them, so both passes pick the same owner for a number.
  const data = new Set(rows.map((r) => r.row));
  for (const f of numberColumnFacts(link, read)) if (!data.has(f.row)) facts.push(f);
  facts.sort((a, b) => a.row - b.row);
  const readFrom = new Map(
    rows.flatMap((r) => (r.readFrom === undefined ? [] : [[r.row, r.readFrom] as const])),
  );
  return { rows, hashes, facts, phoneFallbackColumn: layout.phoneFallbackColumn, readFrom };
}

/** Facts from a re-read of the registration number column alone: numbers and row keys, no cells. */
function numberColumnFacts(link: SheetLink, read: GridRead): RowFacts[] {
  const out: RowFacts[] = [];
  read.rows.forEach((r, i) => {
    const row = read.startRow + i + 1;
    if (row <= link.headerRow) return;
    const text = String(r.values[link.resultColumns.registrationNo - 1] ?? '').trim();
    const no = REGISTRATION_NO.test(text) ? text : null;
    const metadataKey = rowKeyAt(read, row);
    if (no !== null || metadataKey !== undefined) out.push({ row, no, metadataKey, hash: undefined });
  });
  return out;
}

/** Whether the row already shows `write`'s result cells (the fill follows the status they show). */
function showsCells(link: SheetLink, read: GridRead, row: number, write: Annotation): boolean {
  const r = gridRowAt(read, row);
  if (r === undefined) return false;
  for (const [col, column] of Object.entries(link.resultColumns) as [ResultColumn, number][])
    if (String(r.values[column - 1] ?? '') !== write.cells[col]) return false;
  return true;
}

/** Whether the row shows `write`'s status and protection end. */
function showsStatusOf(link: SheetLink, read: GridRead, row: number, write: Annotation): boolean {
  const r = gridRowAt(read, row);
  const cell = (col: ResultColumn): string => String(r?.values[link.resultColumns[col] - 1] ?? '');
  return cell('status') === write.cells.status && cell('protectedUntil') === write.cells.protectedUntil;
}

/**
 * The notes of a row that are to change for it to show `write`'s: on each mapped cell and on the
 * second phone column, whose cell holds the phone's note when the number was read from it (as the
 * import and the add-in place it). Only our part, after NOTE_MARKER, is set or taken out; a
 * person's text before it stays. A link whose notes were not marked yet owned every note on a
 * mapped cell it wrote: an unmarked one there is ours (sheetLinks' notesMarked).
 */
function changedNotes(
  link: SheetLink,
  sheet: ParsedSheet,
  read: GridRead,
  row: number,
  write: Annotation,
): NoteWrite[] {
  const existing = gridRowAt(read, row)?.notes;
  const readFrom = sheet.readFrom.get(row) ?? {};
  const ours = new Map<number, string>();
  for (const [field, text] of Object.entries(write.notes) as [Field, string][]) {
    const column = readFrom[field] ?? link.fieldColumns[field];
    if (column !== undefined) ours.set(column, text);
  }
  const mapped = new Set(Object.values(link.fieldColumns));
  const scope = new Set(mapped);
  if (sheet.phoneFallbackColumn !== undefined) scope.add(sheet.phoneFallbackColumn);
  const out: NoteWrite[] = [];
  for (const column of [...scope].sort((a, b) => a - b)) {
    const now = existing?.get(column) ?? '';
    const olderBuilds = link.notesMarked !== true && mapped.has(column) && !now.includes(NOTE_MARKER);
    const content = noteWithOurs(olderBuilds ? '' : now, ours.get(column));
    if (content !== now) out.push({ column, content });
  }
  return out;
}

function colorOf(fill: string): sheets_v4.Schema$Color {
  const hex = (FILLS[fill as FillName] ?? FILLS.paleBlue).fill;
  const n = Number.parseInt(hex, 16);
  return { red: ((n >> 16) & 255) / 255, green: ((n >> 8) & 255) / 255, blue: (n & 255) / 255 };
}

/**
 * Splits a write into requests under Google's ~2 MB recommendation (the client refuses more), so a
 * big first sync (10,000 rows: ~16 MB of fills and notes) is a few calls instead of a failure. Each
 * part is idempotent (cells, fills, notes set to their values), so a failure between parts is
 * repaired by the next sync's write-back.
 */
function chunks<T>(items: readonly T[]): T[][] {
  // Margin for the envelope around the items (the body's other fields, JSON brackets).
  const budget = GOOGLE_MAX_REQUEST_BYTES - 64 * 1024;
  const out: T[][] = [];
  let part: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (part.length > 0 && bytes + size > budget) {
      out.push(part);
      part = [];
      bytes = 0;
    }
    part.push(item);
    bytes += size;
  }
  if (part.length > 0 || out.length === 0) out.push(part);
  return out;
}

export { GoogleApiError };

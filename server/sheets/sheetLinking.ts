/**
 * Linking a tab for the sync: the request, who may link for which team (R34), the header found and
 * mapped as the add-in maps it, the result headers written, the tab's protection and validation set
 * up (sheetLinkSetup), and the link stored — the link records only what the sync needs to find its
 * columns again.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DomainError, problem } from '../../core/problem.js';
import { planLayout } from '../../core/sheetLayout.js';
import { describeSheet, resultColumnOfHeader, type SheetSetup } from '../../core/sheetSetup.js';
import { RESULT_COLUMNS } from '../../core/schema.js';
import { forbidden, requireRole, type Actor } from '../services/actor.js';
import type { Store } from '../store/store.js';
import { a1Range } from './a1Range.js';
import type { GoogleSheetsClient } from './googleClient.js';
import { planLinkSetup, type LinkSetupReport } from './sheetLinkSetup.js';
import { LINK_COLLECTION, sheetLinkSchema, type SheetLink } from './sheetLinks.js';
import { tabMissing, wholeTab } from './sheetTabRead.js';

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

const SPREADSHEET_URL = /\/spreadsheets\/d\/([A-Za-z0-9_-]+)/;

export function spreadsheetIdOf(text: string): string {
  const m = SPREADSHEET_URL.exec(text);
  return m?.[1] ?? text;
}

export type LinkedTab = SheetLink & {
  shareWith: string;
  mapping: SheetSetup['columns'];
  setup: LinkSetupReport;
};

export async function linkTab(
  deps: { store: Store; clock: () => Date },
  client: GoogleSheetsClient,
  actor: Actor,
  request: LinkRequest,
): Promise<LinkedTab> {
  requireRole(actor, ['reviewer', 'admin'], '链接表格', 'link a sheet');
  requireTeam(actor, request.team);
  const spreadsheetId = spreadsheetIdOf(request.spreadsheet);
  const owner = request.owner ?? actor.name;
  const existing = await deps.store.read((tx) => tx.listDocs(LINK_COLLECTION));
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
  const ownerUser = await deps.store.read((tx) => tx.getUserByName(owner));
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
    createdAt: deps.clock().toISOString(),
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
  await deps.store.write((tx) => tx.putDoc(LINK_COLLECTION, link.id, link));
  return { ...link, shareWith: client.identity, mapping: setup.columns, setup: prepared.report };
}

/**
 * R34: a reviewer acts on their own team's links only — those `list` shows them (a reviewer without a
 * team, and administrators, on every team's). Else another team's reviewer could have rows registered
 * in this team's owner's name, or pause or remove its sync.
 */
export function requireTeam(actor: Actor, team: string): void {
  if (actor.role === 'reviewer' && actor.team !== undefined && actor.team !== team)
    throw forbidden(`管理团队 ${team} 的表格链接`, `manage the sheet links of team ${team}`);
}

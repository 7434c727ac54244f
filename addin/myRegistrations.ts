/**
 * 我的报备 from the task pane (issue 9): build the sheet of the signed-in person's registrations,
 * and apply the actions typed into its 操作 column. Decisions come from core/mySheetPlan.ts as
 * plain data; Excel is reached only through the gateway (a constant number of syncs whatever the
 * row count); the service through the API client, each action with the ETag its row was built with.
 */
import { dayOf } from '../core/day.js';
import {
  ACTION_LABELS,
  MY_SHEET_NAME,
  planMySheet,
  readMyActions,
  type MyAction,
  type MyCarryOver,
} from '../core/mySheetPlan.js';
import { DomainError, problem } from '../core/problem.js';
import { canRequestExtension } from '../core/protection.js';
import { REVIEW_SHEET_NAME } from '../core/reviewSheetPlan.js';
import { rangeAddress } from '../core/sheetGrid.js';
import type { RecordView } from '../core/responses.js';
import { ApiError, type ApiClient, type RegistrationAction } from './apiClient.js';
import type { ExcelGateway } from './excelGateway.js';

/**
 * The records of a `GET /api/registrations?registrant=<me>` page that are mine: the page also holds
 * the other registrant's share of a customer shared with me (R16: I may read it), but I act only on
 * my own share (closing, extending and visits on the other are refused).
 */
export function ownRecords(items: readonly RecordView[], me: string): RecordView[] {
  return items.filter((r) => r.registration.registrant === me);
}

/**
 * The pane's line of my protections ending soon, from such a page: how many, and how many may still
 * ask for an extension (R28) today.
 */
export function expiringSummary(
  items: readonly RecordView[],
  me: string,
  today: string,
  extensionLeadDays: number,
): { n: number; extendable: number } {
  const protecting = ownRecords(items, me).filter((r) => r.protectedUntil !== undefined);
  return {
    n: protecting.length,
    extendable: protecting.filter(
      (r) =>
        r.status === 'protected' &&
        r.protectedUntil !== undefined &&
        canRequestExtension(r.protectedUntil, today, extensionLeadDays),
    ).length,
  };
}

export interface MyRegistrationsDeps {
  excel: ExcelGateway;
  api: ApiClient;
  now?: () => Date;
}

export interface MySheetSummary {
  rows: number;
  overdue: number;
  dueSoon: number;
}

export interface ApplyActionsSummary extends MySheetSummary {
  done: number;
  errors: { row: number; registrationNo: string; message: string }[];
}

/** Registrations per list request (the service's maximum). */
const PAGE = 1000;

const ROUTE: Record<MyAction, RegistrationAction> = {
  extension: 'extension',
  objection: 'objection',
  'follow-up': 'follow-ups',
  signed: 'close',
  lost: 'close',
  withdraw: 'close',
};

export function createMyRegistrations(deps: MyRegistrationsDeps) {
  const { excel, api } = deps;
  const now = deps.now ?? (() => new Date());

  async function mine(): Promise<RecordView[]> {
    const me = await api.me();
    const items: RecordView[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await api.listRegistrations({ registrant: me.name, limit: PAGE, offset });
      items.push(...ownRecords(page.items, me.name));
      if (page.items.length < PAGE || offset + page.items.length >= page.total) return items;
    }
  }

  async function build(carry: ReadonlyMap<string, MyCarryOver> = new Map()): Promise<MySheetSummary> {
    const [records, policy] = await Promise.all([mine(), api.policy()]);
    const plan = planMySheet(records, policy, dayOf(now()), carry, { notes: excel.capabilities().notes });
    await excel.writeSheet(plan.write);
    return { rows: plan.rows, overdue: plan.overdue, dueSoon: plan.dueSoon };
  }

  /** The row of a sheet holding this registration number, searching the given sheets in order. */
  async function find(
    no: string,
    sheets: readonly string[],
  ): Promise<{ sheet: string; row: number; width: number } | null> {
    for (const sheet of sheets) {
      const snapshot = await excel.readSheetIfExists(sheet);
      if (snapshot === null) continue;
      const index = snapshot.grid.findIndex((cells) => cells.some((cell) => cell === no));
      if (index > 0)
        return { sheet, row: index + 1, width: Math.max(1, ...snapshot.grid.map((r) => r.length)) };
    }
    return null;
  }

  return {
    /** Builds (or rebuilds in place) the 我的报备 sheet. */
    build: () => build(),

    /**
     * Selects the row of a registration (a notification clicked in the pane): in 待审核 or 我的报备
     * when one holds it, else in a freshly built 我的报备; null when none does (not one's own).
     */
    async reveal(no: string): Promise<{ sheet: string; row: number } | null> {
      const sheets = [REVIEW_SHEET_NAME, MY_SHEET_NAME];
      let at = await find(no, sheets);
      if (at === null) {
        await build();
        at = await find(no, [MY_SHEET_NAME]);
      }
      if (at === null) return null;
      await excel.select(at.sheet, rangeAddress(at.row, 1, at.row, at.width));
      return { sheet: at.sheet, row: at.row };
    },

    /**
     * Posts every action typed into 操作, one at a time in row order, then rebuilds the sheet:
     * done rows show what was done with 操作 cleared; refused rows keep what was typed and say why
     * (the rule's code and message, e.g. `extension.too_late`); a row whose record changed since
     * the sheet was built (412) is not acted on again.
     */
    async applyActions(): Promise<ApplyActionsSummary> {
      const snapshot = await excel.readSheetIfExists(MY_SHEET_NAME);
      if (snapshot === null) {
        throw new DomainError(
          problem(
            'mine.sheet_missing',
            `还没有「${MY_SHEET_NAME}」表，请先生成`,
            `There is no ${MY_SHEET_NAME} sheet yet; build it first`,
          ),
        );
      }
      const { actions, errors } = readMyActions(snapshot.grid, dayOf(now()), {
        date1904: snapshot.date1904,
      });
      const carry = new Map<string, MyCarryOver>(errors.map((e) => [e.registrationNo, e.carry]));
      const failures = errors.map(({ row, registrationNo, message }) => ({ row, registrationNo, message }));
      let done = 0;
      for (const a of actions) {
        try {
          await api.act(a.registrationNo, ROUTE[a.action], a.body, a.etag);
          done++;
          carry.set(a.registrationNo, {
            action: '',
            note: '',
            date: '',
            outcome: `已完成：${ACTION_LABELS[a.action]}`,
          });
        } catch (error) {
          // Without the service (or the right to use it) nothing else will go through either.
          if (!(error instanceof ApiError) || error.status === 0 || error.status === 401) throw error;
          const message =
            error.status === 412
              ? '该报备在生成本表后已有变化（可能已处理过），本次未重复提交；请查看刷新后的状态，如仍需操作请重新选择'
              : `${error.code}：${error.message}`;
          failures.push({ row: a.row, registrationNo: a.registrationNo, message });
          carry.set(
            a.registrationNo,
            error.status === 412
              ? { action: '', note: a.carry.note, date: a.carry.date, outcome: message }
              : { ...a.carry, outcome: message },
          );
        }
      }
      const rebuilt = await build(carry);
      return { ...rebuilt, done, errors: failures.sort((x, y) => x.row - y.row) };
    },
  };
}

export type MyRegistrations = ReturnType<typeof createMyRegistrations>;

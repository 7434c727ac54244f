/**
 * Users as the administrator sees them in the pane (issue 9): the list's rows, the add-user form
 * parsed before anything is sent, who may take over a leaver's customers (R38), and the sentence
 * after a hand-over. No DOM and no tokens here: a token lives only in the one dialog that shows it.
 */
import { z } from 'zod';
import { ROLES, type Role } from '../core/schema.js';
import type { AdminUser, HandOver, NewUser } from './apiClient.js';

export const ROLE_LABELS: Record<Role, { zh: string; en: string }> = {
  sales: { zh: '销售', en: 'Sales' },
  reviewer: { zh: '审核', en: 'Reviewer' },
  admin: { zh: '管理员', en: 'Administrator' },
};

export interface UserRow {
  id: string;
  name: string;
  role: string;
  team: string;
  enabled: boolean;
  /** What the state column says. */
  state: string;
  /** Disabling oneself is refused by the service (user.self); the pane does not offer it. */
  self: boolean;
}

/** Enabled users first, then by name (pinyin-independent: the code-point order is stable). */
export function userRows(
  users: readonly AdminUser[],
  me: string | undefined,
  language: 'zh' | 'en',
): UserRow[] {
  return [...users]
    .sort(
      (a, b) =>
        Number(a.disabled === true) - Number(b.disabled === true) || a.name.localeCompare(b.name, 'zh-CN'),
    )
    .map((u) => ({
      id: u.id,
      name: u.name,
      role: ROLE_LABELS[u.role][language],
      team: u.team ?? '',
      enabled: u.disabled !== true,
      state:
        u.disabled === true
          ? language === 'zh'
            ? '已停用'
            : 'Disabled'
          : language === 'zh'
            ? '启用'
            : 'Enabled',
      self: u.name === me,
    }));
}

/** R38: a leaver's customers go to an enabled colleague other than the leaver. */
export function handOverCandidates(users: readonly AdminUser[], leaverId: string): AdminUser[] {
  return users
    .filter((u) => u.id !== leaverId && u.disabled !== true)
    .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
}

export function handOverText(result: HandOver, language: 'zh' | 'en'): string {
  const n = result.transferred.length;
  // Lapsed records (R31, R32) stay with the leaver: the sweep voids them and their customers enter the pool.
  const lapsed = result.lapsed.length;
  if (language === 'zh') {
    const kept = lapsed > 0 ? `另有 ${lapsed} 条报备已失效，未移交，将作废并回到公海。` : '';
    return `已停用 ${result.user.name}，${n} 条报备已移交给 ${result.to.name}，双方都已收到通知。${kept}`;
  }
  const kept =
    lapsed > 0
      ? ` ${lapsed} lapsed registration${lapsed === 1 ? ' was' : 's were'} not moved: ${lapsed === 1 ? 'it turns' : 'they turn'} void and the customer${lapsed === 1 ? ' returns' : 's return'} to the pool.`
      : '';
  return `${result.user.name} is disabled; ${n} registration${n === 1 ? '' : 's'} moved to ${result.to.name}, and both were notified.${kept}`;
}

/** The same limits as the service's POST /api/users body (name and team 1–50 characters). */
const newUserSchema = z.object({
  name: z.string().trim().min(1).max(50),
  role: z.enum(ROLES),
  team: z.string().trim().max(50),
});

const NEW_USER_FIELDS: Record<string, { zh: string; en: string }> = {
  name: { zh: '姓名', en: 'Name' },
  role: { zh: '角色', en: 'Role' },
  team: { zh: '团队', en: 'Team' },
};

export type NewUserForm =
  { ok: true; user: NewUser } | { ok: false; field: string; message: string; messageEn: string };

export function parseNewUser(form: { name: string; role: string; team: string }): NewUserForm {
  const parsed = newUserSchema.safeParse(form);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? 'name');
    const label = NEW_USER_FIELDS[field] ?? { zh: field, en: field };
    const zh =
      field === 'role'
        ? '请选择销售、审核或管理员'
        : issue.code === 'too_small'
          ? '不能为空'
          : '最多 50 个字';
    const en =
      field === 'role'
        ? 'choose sales, reviewer or administrator'
        : issue.code === 'too_small'
          ? 'must not be empty'
          : 'at most 50 characters';
    return {
      ok: false,
      field,
      message: `${label.zh}（${field}）：${zh}`,
      messageEn: `${label.en} (${field}): ${en}`,
    };
  }
  const { name, role, team } = parsed.data;
  return { ok: true, user: { name, role, ...(team !== '' ? { team } : {}) } };
}

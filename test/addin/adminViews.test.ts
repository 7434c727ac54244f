/** The administrator's views in the pane (issue 9): policy rows and form, user rows and forms. */
import { describe, expect, it } from 'vitest';
import { presetPolicy, resolvePolicy } from '../../core/policy.js';
import {
  parsePolicyForm,
  policyRows,
  policySavedText,
  serviceFieldError,
  SETTINGS,
  settingText,
} from '../../addin/policyView.js';
import { handOverCandidates, handOverText, parseNewUser, userRows } from '../../addin/usersView.js';
import type { AdminUser } from '../../addin/apiClient.js';

/** The form as the pane fills it: every setting's text from a policy. */
function formOf(policy: ReturnType<typeof presetPolicy>): Record<string, string> {
  return Object.fromEntries(SETTINGS.map((s) => [s.key, settingText(s, policy[s.key])]));
}

describe('policy view', () => {
  it('[R31][R44] the saved message says how many records, and which, the change voided first (both languages)', () => {
    const saved = { ...presetPolicy('follow-up'), lapsed: { voided: 0, numbers: [] } };
    expect(policySavedText(saved, 2, 'zh')).toBe('政策已保存：预设 follow-up，2 项覆盖。');
    expect(policySavedText(saved, 2, 'en')).toBe('Policy saved: preset follow-up, 2 overrides.');
    const numbers = Array.from({ length: 12 }, (_, i) => `BB-2026-${String(i + 1).padStart(6, '0')}`);
    const voided = { ...saved, lapsed: { voided: 12, numbers } };
    const zh = policySavedText(voided, 2, 'zh');
    expect(zh).toContain('12 条报备已按原规则失效');
    expect(zh).toContain('BB-2026-000001、BB-2026-000002');
    expect(zh).toContain('BB-2026-000010 (+2)');
    expect(zh).not.toContain('BB-2026-000011');
    const en = policySavedText({ ...saved, lapsed: { voided: 1, numbers: [numbers[0]!] } }, 0, 'en');
    expect(en).toBe(
      'Policy saved: preset follow-up, 0 overrides. Before it applied, lapsed registrations under the old rules (no follow-up or service in time) were voided and returned to the pool: 1 — BB-2026-000001.',
    );
  });

  it('lists every setting but the preset, with both labels, and marks what differs from the preset', () => {
    const policy = resolvePolicy({ preset: 'channel', reviewWorkdays: 5 });
    const rows = policyRows(policy);
    expect(rows).toHaveLength(Object.keys(policy).length - 1);
    const review = rows.find((r) => r.key === 'reviewWorkdays')!;
    expect(review).toMatchObject({ zh: '审核时限（工作日，R12）', text: '5', overridden: true });
    expect(review.en).toContain('Review within');
    // The channel preset's own protection (1 month from the first visit) is not an override.
    const protection = rows.find((r) => r.key === 'protection')!;
    expect(protection.overridden).toBe(false);
    expect(JSON.parse(protection.text)).toEqual({ months: 1, days: 0, from: 'firstVisit' });
    expect(rows.find((r) => r.key === 'minLeadMinutesBeforeVisit')!.text).toBe('30');
  });

  it('sends only what differs from the chosen preset', () => {
    const form = formOf(presetPolicy('standard'));
    form['objectionWorkdays'] = '3';
    form['maxActivePerRegistrant'] = '200';
    // Switching to follow-up with the standard values still in the form keeps follow-up's own.
    const parsed = parsePolicyForm('follow-up', form);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.overrides.sort()).toEqual(
      [
        'followUp',
        'gradeCadenceDays',
        'maxActivePerRegistrant',
        'objectionWorkdays',
        'reassignAfterNoServiceMonths',
        'serviceDueOnWorkdays',
      ].sort(),
    );
    // Those four are the standard values typed over follow-up's: they stay as the person left them.
    expect(parsed.policy).toMatchObject({
      preset: 'follow-up',
      objectionWorkdays: 3,
      maxActivePerRegistrant: 200,
      followUp: null,
    });
    const untouched = parsePolicyForm('follow-up', formOf(presetPolicy('follow-up')));
    expect(untouched.ok && untouched.overrides).toEqual([]);
    expect(untouched.ok && untouched.policy).toEqual(presetPolicy('follow-up'));
  });

  it('puts the schema’s message next to the field, naming it in both languages', () => {
    const form = formOf(presetPolicy('standard'));
    form['reviewWorkdays'] = '0';
    form['nameSimilarityThreshold'] = 'abc';
    const bad = parsePolicyForm('standard', form);
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    // Text that is not a number is caught before the schema.
    expect(bad.errors).toEqual([
      expect.objectContaining({
        key: 'nameSimilarityThreshold',
        messageEn: expect.stringContaining('expected a number'),
      }),
    ]);
    form['nameSimilarityThreshold'] = '0.9';
    const range = parsePolicyForm('standard', form);
    expect(range.ok).toBe(false);
    if (range.ok) return;
    expect(range.errors).toHaveLength(1);
    expect(range.errors[0]!.key).toBe('reviewWorkdays');
    expect(range.errors[0]!.message).toContain('「审核时限（工作日，R12）」（reviewWorkdays）');
    expect(range.errors[0]!.message).toMatch(/1/);
    expect(range.errors[0]!.messageEn).toContain('(reviewWorkdays)');
    expect(range.errors[0]!.messageEn).toMatch(/>=\s*1/);

    const nested = formOf(presetPolicy('standard'));
    nested['protection'] = '{"months":40,"days":0,"from":"approval"}';
    const deep = parsePolicyForm('standard', nested);
    expect(!deep.ok && deep.errors[0]).toMatchObject({ key: 'protection' });
    expect(!deep.ok && deep.errors[0]!.message).toContain('protection.months');

    expect(parsePolicyForm('weekly', nested)).toMatchObject({ ok: false, errors: [{ key: 'preset' }] });
  });

  it('a refusal from the service lands on its field', () => {
    expect(serviceFieldError('protection.months', 'x', 'y')).toEqual({
      key: 'protection',
      message: 'x',
      messageEn: 'y',
    });
    expect(serviceFieldError(undefined, 'x', 'y').key).toBe('preset');
  });
});

const USERS: AdminUser[] = [
  { id: 'u3', name: '王磊', role: 'sales', team: '华东一部', createdAt: '2026-01-01T00:00:00Z' },
  { id: 'u1', name: '管理员', role: 'admin', createdAt: '2026-01-01T00:00:00Z' },
  {
    id: 'u2',
    name: '李娜',
    role: 'sales',
    team: '华东一部',
    createdAt: '2026-01-01T00:00:00Z',
    disabled: true,
  },
  { id: 'u4', name: '陈主管', role: 'reviewer', createdAt: '2026-01-01T00:00:00Z' },
];

describe('users view', () => {
  it('rows: enabled first, role and state in the pane’s language, the administrator’s own row marked', () => {
    const rows = userRows(USERS, '管理员', 'zh');
    expect(rows.map((r) => r.name).at(-1)).toBe('李娜');
    expect(rows.find((r) => r.name === '李娜')).toMatchObject({
      enabled: false,
      state: '已停用',
      role: '销售',
    });
    expect(rows.find((r) => r.name === '管理员')).toMatchObject({ self: true, role: '管理员', team: '' });
    expect(userRows(USERS, undefined, 'en').find((r) => r.name === '陈主管')!.role).toBe('Reviewer');
  });

  it('hand-over goes to an enabled colleague, never the leaver', () => {
    expect(
      handOverCandidates(USERS, 'u3')
        .map((u) => u.id)
        .sort(),
    ).toEqual(['u1', 'u4']);
    const text = handOverText(
      { user: USERS[0]!, to: USERS[3]!, transferred: ['BB-2026-000001', 'BB-2026-000002'], lapsed: [] },
      'zh',
    );
    expect(text).toContain('2 条报备已移交给 陈主管');
    expect(text).not.toContain('失效');
    const one = { user: USERS[0]!, to: USERS[3]!, transferred: ['BB-2026-000001'], lapsed: [] };
    expect(handOverText(one, 'en')).toContain('1 registration moved');
    // R31: lapsed records stay with the leaver, and the administrator is told so.
    const withLapsed = { ...one, lapsed: ['BB-2026-000003', 'BB-2026-000004'] };
    expect(handOverText(withLapsed, 'zh')).toContain('另有 2 条报备已失效，未移交');
    expect(handOverText(withLapsed, 'en')).toContain('2 lapsed registrations were not moved');
  });

  it('the add-user form is checked before sending, naming the field', () => {
    expect(parseNewUser({ name: ' 赵强 ', role: 'sales', team: '' })).toEqual({
      ok: true,
      user: { name: '赵强', role: 'sales' },
    });
    expect(parseNewUser({ name: '赵强', role: 'reviewer', team: '华南' })).toEqual({
      ok: true,
      user: { name: '赵强', role: 'reviewer', team: '华南' },
    });
    expect(parseNewUser({ name: '  ', role: 'sales', team: '' })).toMatchObject({
      ok: false,
      field: 'name',
      message: '姓名（name）：不能为空',
    });
    expect(parseNewUser({ name: '赵强', role: 'boss', team: '' })).toMatchObject({
      ok: false,
      field: 'role',
    });
    expect(parseNewUser({ name: 'x'.repeat(51), role: 'sales', team: '' })).toMatchObject({
      messageEn: 'Name (name): at most 50 characters',
    });
  });
});

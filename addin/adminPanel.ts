/**
 * The administrator's step of the pane (issue 9): users (list, add, disable/enable, a new token,
 * a leaver's hand-over, R38) and the policy (in force, a preset, overrides checked by core's zod
 * schema). The pane owns the operations' discipline (one at a time, progress, errors); this module
 * owns the step's DOM. A token is only ever in the token box's text, which closing wipes: it is
 * kept in no variable, state or storage of the pane.
 */
import { presetPolicy, PRESET_NAMES, type Policy, type PresetName } from '../core/policy.js';
import type { MessageKind } from './activity.js';
import type { PolicyPutResponse } from '../core/responses.js';
import { ApiError, type AdminUser, type ApiClient, type UserWithToken } from './apiClient.js';
import { translate, type Language, type MessageKey, type MessageParams } from './i18n.js';
import {
  parsePolicyForm,
  policyRows,
  policySavedText,
  PRESET_LABELS,
  serviceFieldError,
  SETTINGS,
  settingText,
  type FieldError,
  type SettingKey,
  type SettingSpec,
} from './policyView.js';
import { handOverCandidates, handOverText, parseNewUser, userRows } from './usersView.js';

export interface AdminPanelHost {
  api(): ApiClient | undefined;
  me(): string | undefined;
  language(): Language;
  run(label: MessageKey, operation: () => Promise<void>): Promise<void>;
  say(kind: MessageKind, render: () => string): void;
}

interface ValueElement extends HTMLElement {
  value: string;
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`task pane markup lacks #${id}`);
  return element as T;
}

export class AdminPanel {
  private users: AdminUser[] | undefined;
  private policy: Policy | undefined;
  /** The user whose hand-over is being confirmed. */
  private handOverFor: AdminUser | undefined;
  private policyErrors: FieldError[] = [];

  constructor(private readonly host: AdminPanelHost) {}

  private t(key: MessageKey, params?: MessageParams): string {
    return translate(this.host.language(), key, params);
  }

  bind(): void {
    byId('users-load').addEventListener('click', () => void this.loadUsers());
    byId('user-add').addEventListener('click', () => void this.addUser());
    byId('token-copy').addEventListener('click', () => void this.copyToken());
    byId('token-close').addEventListener('click', () => this.closeToken());
    byId('hand-over-confirm').addEventListener('click', () => void this.confirmHandOver());
    byId('hand-over-cancel').addEventListener('click', () => this.closeHandOver());
    byId('policy-load').addEventListener('click', () => void this.loadPolicy());
    byId('policy-save').addEventListener('click', () => void this.savePolicy());
    byId<HTMLSelectElement>('policy-preset').addEventListener('change', (event) => {
      // A new preset starts from its own values; overrides are typed on top of it.
      const preset = (event.target as HTMLSelectElement).value as PresetName;
      this.fillPolicyForm(presetPolicy(preset));
    });
  }

  /** After a disconnect nothing of the administrator's view stays on the page. */
  reset(): void {
    this.users = undefined;
    this.policy = undefined;
    this.policyErrors = [];
    this.closeToken();
    this.closeHandOver();
    byId('users-wrap').hidden = true;
    byId('policy-wrap').hidden = true;
  }

  /** Redraws in the pane's language, keeping what was typed into the policy form. */
  render(): void {
    this.renderUsers();
    if (this.policy !== undefined) {
      const texts = this.policyTexts();
      this.renderPolicy(this.policy);
      this.setPolicyTexts(texts);
      this.showPolicyErrors();
    }
    if (this.handOverFor !== undefined) this.openHandOver(this.handOverFor);
  }

  private api(): ApiClient {
    const api = this.host.api();
    if (api === undefined)
      throw new ApiError({
        status: 0,
        code: 'config.not_connected',
        message: this.t('error.notConnected'),
        messageEn: translate('en', 'error.notConnected'),
      });
    return api;
  }

  // ---- Users -------------------------------------------------------------------------------------

  private async loadUsers(): Promise<void> {
    await this.host.run('progress.admin', async () => {
      await this.fetchUsers();
      this.host.say('success', () => this.t('admin.usersLoaded', { n: this.users?.length ?? 0 }));
    });
  }

  private async fetchUsers(): Promise<void> {
    this.users = await this.api().users();
    this.renderUsers();
  }

  private renderUsers(): void {
    const users = this.users;
    byId('users-wrap').hidden = users === undefined;
    if (users === undefined) return;
    const body = byId<HTMLTableElement>('users-table').tBodies[0]!;
    body.replaceChildren();
    for (const row of userRows(users, this.host.me(), this.host.language())) {
      const tr = document.createElement('tr');
      tr.dataset['user'] = row.name;
      tr.dataset['id'] = row.id;
      if (!row.enabled) tr.classList.add('disabled-user');
      for (const text of [row.name, row.role, row.team, row.state]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      const actions = document.createElement('td');
      actions.className = 'user-actions';
      const user = users.find((u) => u.id === row.id)!;
      const button = (action: string, key: MessageKey, onClick: () => void): void => {
        const b = document.createElement('button');
        b.type = 'button';
        b.dataset['action'] = action;
        b.textContent = this.t(key);
        b.addEventListener('click', onClick);
        actions.append(b);
      };
      // The service refuses an administrator disabling themselves (user.self); not offered.
      if (!row.self) {
        if (row.enabled) button('disable', 'admin.disable', () => void this.setEnabled(user, false));
        else button('enable', 'admin.enable', () => void this.setEnabled(user, true));
      }
      button('rotate', 'admin.rotate', () => void this.rotate(user));
      if (!row.self && row.enabled) button('hand-over', 'admin.handOver', () => this.openHandOver(user));
      tr.append(actions);
      body.append(tr);
    }
  }

  private async addUser(): Promise<void> {
    const error = byId('new-user-error');
    const form = parseNewUser({
      name: byId<ValueElement>('new-user-name').value,
      role: byId<HTMLSelectElement>('new-user-role').value,
      team: byId<ValueElement>('new-user-team').value,
    });
    if (!form.ok) {
      error.textContent = this.host.language() === 'zh' ? form.message : form.messageEn;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    await this.host.run('progress.admin', async () => {
      const created = await this.api().createUser(form.user);
      byId<ValueElement>('new-user-name').value = '';
      byId<ValueElement>('new-user-team').value = '';
      this.showToken(created);
      await this.fetchUsers();
      this.host.say('success', () => this.t('admin.added', { name: created.user.name }));
    });
  }

  private async setEnabled(user: AdminUser, enabled: boolean): Promise<void> {
    await this.host.run('progress.admin', async () => {
      const api = this.api();
      const changed = enabled ? await api.enableUser(user.id) : await api.disableUser(user.id);
      await this.fetchUsers();
      this.host.say('success', () =>
        this.t(enabled ? 'admin.enabled' : 'admin.disabled', { name: changed.name }),
      );
    });
  }

  private async rotate(user: AdminUser): Promise<void> {
    await this.host.run('progress.admin', async () => {
      const rotated = await this.api().rotateToken(user.id);
      this.showToken(rotated);
      this.host.say('success', () => this.t('admin.rotated', { name: rotated.user.name }));
    });
  }

  private showToken(issued: UserWithToken): void {
    byId('token-label').textContent = this.t('admin.tokenFor', { name: issued.user.name });
    byId('token-value').textContent = issued.token;
    byId('token-box').hidden = false;
  }

  private async copyToken(): Promise<void> {
    const code = byId('token-value');
    const token = code.textContent ?? '';
    try {
      await navigator.clipboard.writeText(token);
      this.host.say('success', () => this.t('admin.copied'));
    } catch {
      // Office webviews may deny the clipboard API: select the text so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(code);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      this.host.say('info', () => this.t('admin.copyManual'));
    }
  }

  private closeToken(): void {
    byId('token-value').textContent = '';
    byId('token-label').textContent = '';
    byId('token-box').hidden = true;
    window.getSelection()?.removeAllRanges();
  }

  private openHandOver(user: AdminUser): void {
    this.handOverFor = user;
    const candidates = handOverCandidates(this.users ?? [], user.id);
    byId('hand-over-label').textContent =
      candidates.length === 0
        ? this.t('admin.handOverNobody')
        : this.t('admin.handOverAsk', { name: user.name });
    const select = byId<HTMLSelectElement>('hand-over-to');
    const previous = select.value;
    select.replaceChildren(
      ...candidates.map((c) => {
        const option = document.createElement('option');
        option.value = c.name;
        option.textContent = c.team === undefined ? c.name : `${c.name}（${c.team}）`;
        return option;
      }),
    );
    if (candidates.some((c) => c.name === previous)) select.value = previous;
    byId('hand-over-confirm').toggleAttribute('disabled', candidates.length === 0);
    byId('hand-over').hidden = false;
  }

  private closeHandOver(): void {
    this.handOverFor = undefined;
    byId('hand-over').hidden = true;
  }

  private async confirmHandOver(): Promise<void> {
    const leaver = this.handOverFor;
    const to = byId<HTMLSelectElement>('hand-over-to').value;
    if (leaver === undefined || to === '') return;
    await this.host.run('progress.admin', async () => {
      const result = await this.api().handOver(leaver.id, to);
      this.closeHandOver();
      await this.fetchUsers();
      this.host.say('success', () => handOverText(result, this.host.language()));
    });
  }

  // ---- Policy ------------------------------------------------------------------------------------

  private async loadPolicy(): Promise<void> {
    await this.host.run('progress.admin', async () => {
      const policy = await this.api().policy();
      this.policy = policy;
      this.policyErrors = [];
      this.renderPolicy(policy);
      this.showPolicyErrors();
    });
  }

  private renderPolicy(policy: Policy): void {
    const language = this.host.language();
    const preset = byId<HTMLSelectElement>('policy-preset');
    preset.replaceChildren(
      ...PRESET_NAMES.map((name) => {
        const option = document.createElement('option');
        option.value = name;
        option.textContent = `${PRESET_LABELS[name][language]} (${name})`;
        return option;
      }),
    );
    preset.value = policy.preset;
    const form = byId('policy-form');
    form.replaceChildren();
    for (const row of policyRows(policy)) {
      const spec = SETTINGS.find((s) => s.key === row.key)!;
      const div = document.createElement('div');
      div.className = 'policy-row';
      div.dataset['key'] = row.key;
      const id = `policy-${row.key}`;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = row.zh;
      if (row.overridden) {
        const mark = document.createElement('span');
        mark.className = 'overridden';
        mark.textContent = this.t('admin.overridden');
        label.append(mark);
      }
      const en = document.createElement('span');
      en.className = 'en';
      en.textContent = `${row.en} · ${row.key}`;
      label.append(en);
      const control = this.control(spec, id, language);
      const error = document.createElement('p');
      error.className = 'field-error';
      error.hidden = true;
      div.append(label, control, error);
      form.append(div);
    }
    this.setPolicyTexts(Object.fromEntries(policyRows(policy).map((r) => [r.key, r.text])));
    byId('policy-wrap').hidden = false;
  }

  private control(spec: SettingSpec, id: string, language: Language): HTMLInputElement | HTMLSelectElement {
    const kind = spec.kind;
    if (kind.type === 'boolean' || kind.type === 'enum') {
      const select = document.createElement('select');
      select.id = id;
      const options: [string, string][] =
        kind.type === 'boolean'
          ? [
              ['true', language === 'zh' ? '是' : 'yes'],
              ['false', language === 'zh' ? '否' : 'no'],
            ]
          : kind.options.map((o) => [o, o]);
      for (const [value, text] of options) {
        const option = document.createElement('option');
        option.value = value;
        option.textContent = text;
        select.append(option);
      }
      return select;
    }
    const input = document.createElement('input');
    input.id = id;
    input.type = 'text';
    input.spellcheck = false;
    if (kind.type !== 'json') input.inputMode = 'decimal';
    return input;
  }

  private policyTexts(): Partial<Record<SettingKey, string>> {
    const texts: Partial<Record<SettingKey, string>> = {};
    for (const spec of SETTINGS) {
      const control = document.getElementById(`policy-${spec.key}`) as
        HTMLInputElement | HTMLSelectElement | null;
      if (control !== null) texts[spec.key] = control.value;
    }
    return texts;
  }

  private setPolicyTexts(texts: Partial<Record<string, string>>): void {
    for (const [key, text] of Object.entries(texts)) {
      const control = document.getElementById(`policy-${key}`) as HTMLInputElement | HTMLSelectElement | null;
      if (control !== null && text !== undefined) control.value = text;
    }
  }

  private fillPolicyForm(policy: Policy): void {
    this.setPolicyTexts(Object.fromEntries(SETTINGS.map((s) => [s.key, settingText(s, policy[s.key])])));
    this.policyErrors = [];
    this.showPolicyErrors();
  }

  /** Each message under its field, in the pane's language first and the other under it. */
  private showPolicyErrors(): void {
    const zhFirst = this.host.language() === 'zh';
    for (const row of document.querySelectorAll<HTMLElement>('#policy-form .policy-row')) {
      const errors = this.policyErrors.filter((e) => e.key === row.dataset['key']);
      row.classList.toggle('invalid', errors.length > 0);
      const p = row.querySelector<HTMLElement>('.field-error')!;
      p.textContent = errors
        .map((e) => (zhFirst ? `${e.message}\n${e.messageEn}` : `${e.messageEn}\n${e.message}`))
        .join('\n');
      p.hidden = errors.length === 0;
    }
    const general = this.policyErrors.filter((e) => e.key === 'preset');
    const summary = byId('policy-error');
    summary.textContent = general.map((e) => (zhFirst ? e.message : e.messageEn)).join('\n');
    summary.hidden = general.length === 0;
  }

  private async savePolicy(): Promise<void> {
    const preset = byId<HTMLSelectElement>('policy-preset').value;
    const form = parsePolicyForm(preset, this.policyTexts());
    if (!form.ok) {
      this.policyErrors = form.errors;
      this.showPolicyErrors();
      this.host.say('error', () => this.t('admin.policyInvalid', { n: form.errors.length }));
      return;
    }
    this.policyErrors = [];
    this.showPolicyErrors();
    await this.host.run('progress.admin', async () => {
      let saved: PolicyPutResponse;
      try {
        saved = await this.api().putPolicy(form.input);
      } catch (err) {
        // The service checks with the same schema; should it still refuse, say so on the field.
        if (err instanceof ApiError && err.code === 'request.invalid') {
          this.policyErrors = [serviceFieldError(err.field, err.message, err.messageEn)];
          this.showPolicyErrors();
        }
        throw err;
      }
      this.policy = saved;
      this.renderPolicy(saved);
      this.host.say('success', () => policySavedText(saved, form.overrides.length, this.host.language()));
    });
  }
}

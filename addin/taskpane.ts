/**
 * The task pane: Connect → Prepare sheet → Check / Submit / Refresh → Review → Upload a legacy file.
 * This module wires the page to the API client and the workflows; it never touches Excel itself
 * (the workflows do, through the one Excel module), and waits for Office.onReady before any step
 * that needs the workbook.
 *
 * Over 600 lines as one file: the page's wiring (buttons, state, messages) for one page; each view
 * with its own state is a module of its own (usersView, policyView, summaryView …).
 */
import { FILLS, rowFill } from '../core/annotation.js';
import type { Field, RowStatus } from '../core/schema.js';
import { Activity, type MessageKind } from './activity.js';
import { AdminPanel } from './adminPanel.js';
import {
  ApiError,
  createApiClient,
  type ApiClient,
  type ImportReport,
  type NotificationPage,
} from './apiClient.js';
import { dayOf } from '../core/day.js';
import {
  forgetToken,
  loadConnectionSettings,
  normaliseServiceUrl,
  saveConnectionSettings,
  type SettingsStorage,
} from './connectionSettings.js';
import { describeError, PaneError } from './errorText.js';
import { createMyRegistrations, expiringSummary } from './myRegistrations.js';
import { createPoolSheet } from './poolSheet.js';
import { createLifecycleReview } from './lifecycleReview.js';
import { createReportSheet } from './reportSheet.js';
import { createExcelGateway } from './excelGateway.js';
import { registerFluentComponents } from './fluentComponents.js';
import {
  htmlLang,
  initialLanguage,
  isMessageKey,
  loadLanguageChoice,
  saveLanguageChoice,
  translate,
  type Language,
  type MessageKey,
  type MessageParams,
} from './i18n.js';
import { mappingProblem, renderMappingTable, setupWithChoices } from './mappingTable.js';
import { renderLegend } from './legendView.js';
import { renderSummary, type StatusCounts } from './summaryView.js';
import {
  createWorkflows,
  type RunSummary,
  type SheetSetup,
  type WorkflowProgress,
  type WorkflowStage,
  type Workflows,
} from './workflows.js';

interface ValueElement extends HTMLElement {
  value: string;
}
interface CheckableElement extends HTMLElement {
  checked: boolean;
}

/** What the pane knows; the DOM is redrawn from it (e.g. on a language switch). */
interface PaneState {
  language: Language;
  languageChosen: boolean;
  /** Office.onReady said Excel, with ExcelApi 1.9. */
  inExcel: boolean;
  api: ApiClient | undefined;
  serviceUrl: string | undefined;
  /** Warnings are what the service asks administrators to act on (a missing year of working days, …). */
  health: { version: string; store: string; warnings: { message: string; messageEn: string }[] } | undefined;
  admin: boolean;
  /** The signed-in user's name (their registrations, their expiring protections). */
  me: string | undefined;
  notices: NotificationPage | undefined;
  expiring: { n: number; extendable: number } | undefined;
  reviewer: boolean;
  setup: SheetSetup | undefined;
  chosen: (Field | null)[];
  applied: SheetSetup | undefined;
  busy: boolean;
  runSummary: RunSummary | undefined;
  uploadReport: ImportReport | undefined;
  downloadUrl: string | undefined;
}

/** A status chip shows the fill its rows get in the sheet. */
function statusColour(status: RowStatus): string {
  return `#${FILLS[rowFill(status)].fill}`;
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`task pane markup lacks #${id}`);
  return element as T;
}

function browserStorages(): SettingsStorage {
  // Touching storage can throw in locked-down frames; connectionSettings copes with undefined.
  const get = (name: 'localStorage' | 'sessionStorage'): Storage | undefined => {
    try {
      return window[name];
    } catch {
      return undefined;
    }
  };
  return { local: get('localStorage'), session: get('sessionStorage') };
}

class TaskPane {
  private readonly storage = browserStorages();
  private readonly activity = new Activity({
    progress: byId('progress'),
    progressLabel: byId('progress-label'),
    progressBar: byId('progress-bar'),
    message: byId('message'),
  });
  private readonly state: PaneState;
  private workflows: Workflows | undefined;
  private lastMessage: { kind: MessageKind; render: () => string } | undefined;

  private readonly serviceUrlField = byId<ValueElement>('service-url');
  private readonly tokenField = byId<ValueElement>('token');
  private readonly uploadInput = byId<HTMLInputElement>('upload-file');
  private readonly uploadMode = byId<ValueElement>('upload-mode');
  private readonly uploadDryRun = byId<CheckableElement>('upload-dry-run');
  private readonly downloadLink = byId('upload-download');
  /** The administrator's step (issue 9): users, hand-over, policy. */
  private readonly adminPanel = new AdminPanel({
    api: () => this.state.api,
    me: () => this.state.me,
    language: () => this.state.language,
    run: (label, operation) => this.run(label, operation),
    say: (kind, render) => this.say(kind, render),
  });

  constructor() {
    const stored = loadLanguageChoice(this.storage.local);
    this.state = {
      language: initialLanguage(stored, undefined),
      languageChosen: stored !== null,
      inExcel: false,
      api: undefined,
      serviceUrl: undefined,
      health: undefined,
      reviewer: false,
      admin: false,
      me: undefined,
      notices: undefined,
      expiring: undefined,
      setup: undefined,
      chosen: [],
      applied: undefined,
      busy: false,
      runSummary: undefined,
      uploadReport: undefined,
      downloadUrl: undefined,
    };
  }

  t(key: MessageKey, params?: MessageParams): string {
    return translate(this.state.language, key, params);
  }

  /** Shows an outcome; kept as a function of the language so the toggle retranslates it. */
  private say(kind: MessageKind, render: () => string): void {
    this.lastMessage = { kind, render };
    this.activity.say(kind, render());
  }

  private clearMessage(): void {
    this.lastMessage = undefined;
    this.activity.clearMessage();
  }

  start(): void {
    const settings = loadConnectionSettings(this.storage, window.location.origin);
    this.serviceUrlField.value = settings.serviceUrl;
    this.tokenField.value = settings.token;
    this.bindEvents();
    this.adminPanel.bind();
    this.applyLanguage();
    this.refreshControls();
    void this.waitForExcel();
    // A reload of the pane within the session reconnects with the token kept in sessionStorage.
    if (settings.token !== '') void this.connect();
  }

  private bindEvents(): void {
    byId('language-toggle').addEventListener('click', () => {
      this.state.language = this.state.language === 'zh' ? 'en' : 'zh';
      this.state.languageChosen = true;
      saveLanguageChoice(this.storage.local, this.state.language);
      this.applyLanguage();
    });
    byId('connect').addEventListener('click', () => void this.connect());
    byId('forget').addEventListener('click', () => this.disconnect());
    this.tokenField.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') void this.connect();
    });
    byId('detect').addEventListener('click', () => void this.detect());
    byId('apply').addEventListener('click', () => void this.apply());
    byId('check').addEventListener('click', () => void this.runSheet('check'));
    byId('submit').addEventListener('click', () => void this.runSheet('submit'));
    byId('refresh').addEventListener('click', () => void this.runSheet('refresh'));
    byId('submit-changes').addEventListener('click', () => void this.submitChanges());
    byId('notices-read-all').addEventListener('click', () => {
      void this.run('progress.notices', async () => {
        await this.state.api?.markNotificationsRead({ all: true });
      });
    });
    byId('pool-build').addEventListener('click', () => void this.pool('build'));
    byId('pool-apply').addEventListener('click', () => void this.pool('apply'));
    byId('lifecycle-build').addEventListener('click', () => void this.reviewer('lifecycle-build'));
    byId('lifecycle-apply').addEventListener('click', () => void this.reviewer('lifecycle-apply'));
    byId('report-build').addEventListener('click', () => void this.reviewer('report'));
    byId('mine-build').addEventListener('click', () => void this.mine('build'));
    byId('mine-apply').addEventListener('click', () => void this.mine('apply'));
    byId('review-build').addEventListener('click', () => void this.review('build'));
    byId('review-apply').addEventListener('click', () => void this.review('apply'));
    byId('upload-pick').addEventListener('click', () => this.uploadInput.click());
    this.uploadInput.addEventListener('change', () => this.showChosenFile());
    byId('upload').addEventListener('click', () => void this.upload());
  }

  // ---- Office ------------------------------------------------------------------------------------

  private async waitForExcel(): Promise<void> {
    const banner = byId('host-banner');
    if (typeof Office === 'undefined') {
      banner.dataset['key'] = 'host.noOffice';
      banner.textContent = this.t('host.noOffice');
      banner.hidden = false;
      return;
    }
    const info = await Office.onReady();
    if (!this.state.languageChosen) {
      this.state.language = initialLanguage(null, Office.context?.displayLanguage);
      this.applyLanguage();
    }
    const isExcel = String(info.host) === 'Excel';
    const requirements = Office.context?.requirements;
    const supported =
      typeof requirements?.isSetSupported !== 'function' || requirements.isSetSupported('ExcelApi', '1.9');
    if (!isExcel || !supported) {
      const key: MessageKey = isExcel ? 'host.oldExcel' : 'host.notExcel';
      banner.dataset['key'] = key;
      banner.textContent = this.t(key);
      banner.hidden = false;
      return;
    }
    this.state.inExcel = true;
    this.ensureWorkflows();
    this.refreshControls();
  }

  private ensureWorkflows(): void {
    if (!this.state.inExcel || this.state.api === undefined) {
      this.workflows = undefined;
      return;
    }
    this.workflows = createWorkflows({
      excel: createExcelGateway(),
      api: this.state.api,
      progress: (update) => this.onProgress(update),
    });
  }

  private onProgress(update: WorkflowProgress): void {
    const labels: Record<WorkflowStage, MessageKey> = {
      reading: 'stage.reading',
      sending: 'stage.sending',
      fetching: 'stage.fetching',
      deciding: 'stage.deciding',
      writing: 'stage.writing',
    };
    this.activity.report(update.done, update.total, this.t(labels[update.stage]));
  }

  // ---- Operations ----------------------------------------------------------------------------------

  /** Runs one operation at a time: controls off, progress on, and any failure said in plain words. */
  private async run(label: MessageKey, operation: () => Promise<void>): Promise<void> {
    if (this.state.busy) return;
    this.state.busy = true;
    this.refreshControls();
    this.lastMessage = undefined;
    this.activity.start(this.t(label));
    try {
      return await operation();
    } catch (err) {
      this.say('error', () => describeError(err, this.state.language));
      if (err instanceof ApiError && err.status === 401) this.markDisconnected();
    } finally {
      this.state.busy = false;
      this.activity.finish();
      this.refreshControls();
      // The unread count and expiring protections after every operation (issue 9).
      void this.refreshNotices();
    }
  }

  private async refreshNotices(): Promise<void> {
    const api = this.state.api;
    const me = this.state.me;
    if (api === undefined || me === undefined) return;
    try {
      const [page, expiring, policy] = await Promise.all([
        api.notifications({ limit: 20 }),
        api.listRegistrations({ registrant: me, expiringWithinDays: 20, limit: 1000 }),
        api.policy(),
      ]);
      this.state.notices = page;
      this.state.expiring = expiringSummary(expiring.items, me, dayOf(new Date()), policy.extensionLeadDays);
    } catch {
      // The list is a convenience: a failure here must not hide the operation's own message.
      return;
    }
    this.renderNotices();
  }

  private renderNotices(): void {
    const section = byId('notices');
    const page = this.state.notices;
    section.hidden = this.state.api === undefined || page === undefined;
    if (page === undefined) return;
    const badge = byId('unread-badge');
    badge.hidden = page.unread === 0;
    badge.textContent = String(page.unread);
    badge.title = this.t('notices.unread', { n: page.unread });
    const expiring = this.state.expiring;
    const line = byId('expiring-line');
    line.hidden = expiring === undefined || expiring.n === 0;
    if (expiring !== undefined) line.textContent = this.t('notices.expiring', expiring);
    const list = byId('notice-list');
    list.replaceChildren();
    if (page.items.length === 0) {
      const empty = document.createElement('li');
      empty.textContent = this.t('notices.none');
      list.append(empty);
    }
    for (const item of page.items) {
      const li = document.createElement('li');
      li.dataset['id'] = item.id;
      if (!item.read) li.classList.add('unread-item');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = this.state.language === 'zh' ? item.message : item.messageEn;
      const time = document.createElement('time');
      time.dateTime = item.at;
      time.textContent = new Date(item.at).toLocaleString(this.state.language === 'zh' ? 'zh-CN' : 'en-GB', {
        timeZone: 'Asia/Shanghai',
        dateStyle: 'short',
        timeStyle: 'short',
      });
      button.append(time);
      button.addEventListener('click', () => void this.openNotice(item.id, item.recordNo));
      li.append(button);
      list.append(li);
    }
  }

  /** Marks the notification read and selects its registration's row (issue 9). */
  private async openNotice(id: string, recordNo: string | undefined): Promise<void> {
    await this.run('progress.notices', async () => {
      const api = this.state.api;
      if (api === undefined) return;
      await api.markNotificationsRead({ ids: [id] });
      if (recordNo === undefined || !this.state.inExcel) return;
      const shown = await createMyRegistrations({ excel: createExcelGateway(), api }).reveal(recordNo);
      if (shown === null) this.say('info', () => this.t('notices.notInSheets', { no: recordNo }));
      else this.say('success', () => this.t('notices.shown', { no: recordNo, ...shown }));
    });
  }

  private async connect(): Promise<void> {
    const serviceUrl = normaliseServiceUrl(this.serviceUrlField.value);
    const token = this.tokenField.value.trim();
    if (this.serviceUrlField.value.trim() === '' || token === '') {
      this.say('error', () => this.t('connect.needBoth'));
      return;
    }
    if (serviceUrl === null) {
      this.say('error', () => this.t('connect.badUrl'));
      return;
    }
    await this.run('progress.connecting', async () => {
      this.state.serviceUrl = serviceUrl;
      const api = createApiClient({ baseUrl: serviceUrl, token });
      const health = await api.health();
      // health needs no token; an authenticated call proves the token before anything relies on it.
      await api.policy();
      const me = await api.me();
      this.state.api = api;
      this.state.health = {
        version: health.version,
        store: health.store,
        warnings: (health.warnings ?? []).map((w) => ({ message: w.message, messageEn: w.messageEn })),
      };
      // The review step is for reviewers and administrators; service warnings for administrators.
      this.state.reviewer = me.role === 'reviewer' || me.role === 'admin';
      this.state.admin = me.role === 'admin';
      this.state.me = me.name;
      saveConnectionSettings(this.storage, { serviceUrl, token });
      this.ensureWorkflows();
      this.showConnected();
      const warned = this.state.admin && this.state.health.warnings.length > 0;
      this.say(warned ? 'warning' : 'success', () => this.connectedText());
    });
  }

  private connectedText(): string {
    const health = this.state.health;
    const lines = [
      this.t('connect.connected', {
        url: this.state.serviceUrl ?? '',
        version: health?.version ?? '',
        store: health?.store ?? '',
      }),
    ];
    if (this.state.reviewer) lines.push(this.t('connect.asReviewer'));
    if (this.state.admin && health !== undefined && health.warnings.length > 0) {
      lines.push(this.t('connect.adminWarnings'));
      for (const w of health.warnings)
        lines.push(`• ${this.state.language === 'zh' ? w.message : w.messageEn}`);
    }
    return lines.join('\n');
  }

  private showConnected(): void {
    const state = byId('connect-state');
    state.textContent = this.connectedText();
    state.hidden = false;
    byId('forget').hidden = false;
  }

  private markDisconnected(): void {
    this.state.api = undefined;
    this.state.reviewer = false;
    this.state.admin = false;
    this.state.health = undefined;
    this.state.me = undefined;
    this.state.notices = undefined;
    this.state.expiring = undefined;
    byId('notices').hidden = true;
    this.workflows = undefined;
    byId('connect-state').hidden = true;
    byId('forget').hidden = true;
    this.adminPanel.reset();
  }

  private disconnect(): void {
    forgetToken(this.storage);
    this.tokenField.value = '';
    this.markDisconnected();
    this.clearMessage();
    this.refreshControls();
  }

  private requireWorkflows(): Workflows {
    if (this.workflows === undefined) throw new PaneError('error.notConnected');
    return this.workflows;
  }

  private async detect(): Promise<void> {
    await this.run('progress.detect', async () => {
      const setup = await this.requireWorkflows().detect();
      this.state.setup = setup;
      this.state.chosen = setup.columns.map((c) => c.field);
      this.state.applied = undefined;
      this.renderSetup();
    });
  }

  private renderSetup(): void {
    const setup = this.state.setup;
    if (setup === undefined) return;
    const summary = byId('detect-summary');
    summary.textContent = this.t('prepare.detected', {
      sheet: setup.sheetName,
      row: setup.headerRow,
      rows: setup.dataRows,
    });
    summary.hidden = false;
    renderMappingTable(
      byId<HTMLTableElement>('mapping').tBodies[0]!,
      setup.columns,
      this.state.chosen,
      this.state.language,
      (index, field) => {
        this.state.chosen[index] = field;
        this.state.applied = undefined;
        this.showMappingProblem();
        this.refreshControls();
      },
    );
    byId('mapping-wrap').hidden = false;
    this.showMappingProblem();
  }

  private showMappingProblem(): void {
    const element = byId('mapping-problem');
    const problem = this.state.setup ? mappingProblem(this.state.chosen, this.state.language) : null;
    element.textContent = problem ?? '';
    element.hidden = problem === null;
  }

  private async apply(): Promise<void> {
    const setup = this.state.setup;
    if (setup === undefined || mappingProblem(this.state.chosen, this.state.language) !== null) return;
    await this.run('progress.apply', async () => {
      const chosen = setupWithChoices(setup, this.state.chosen);
      const result = await this.requireWorkflows().apply(chosen);
      this.state.applied = chosen;
      this.say(result.tableError === undefined ? 'success' : 'warning', () => {
        const lines = [this.t('prepare.applied')];
        if (result.invalidRows > 0) {
          lines.push(
            this.t('prepare.invalidMarked', { rows: result.invalidRows, cells: result.invalidCells }),
          );
        }
        if (result.tableError !== undefined) {
          const reason =
            this.state.language === 'en' ? (result.tableErrorEn ?? result.tableError) : result.tableError;
          lines.push(this.t('prepare.tableFailed', { reason }));
        }
        for (const w of result.warnings) lines.push(this.state.language === 'zh' ? w.message : w.messageEn);
        return lines.join('\n');
      });
    });
  }

  private async runSheet(kind: 'check' | 'submit' | 'refresh'): Promise<void> {
    const setup = this.state.applied;
    if (setup === undefined) {
      this.say('error', () => this.t('error.notPrepared'));
      return;
    }
    const labels = {
      check: ['progress.check', 'run.doneCheck'],
      submit: ['progress.submit', 'run.doneSubmit'],
      refresh: ['progress.refresh', 'run.doneRefresh'],
    } as const satisfies Record<typeof kind, readonly [MessageKey, MessageKey]>;
    const [progressLabel, doneLabel] = labels[kind];
    await this.run(progressLabel, async () => {
      const workflows = this.requireWorkflows();
      const summary =
        kind === 'check'
          ? await workflows.check(setup)
          : kind === 'submit'
            ? await workflows.submit(setup)
            : await workflows.refresh(setup);
      this.state.runSummary = summary;
      this.renderRunSummary();
      if (summary.rows === 0) this.say('info', () => this.t('run.nothing'));
      else this.say('success', () => this.t(doneLabel));
    });
  }

  /** 提交更改 (issue 15): the edited fields of registered rows; what happened to each is on its row. */
  private async submitChanges(): Promise<void> {
    const setup = this.state.applied;
    if (setup === undefined) {
      this.say('error', () => this.t('error.notPrepared'));
      return;
    }
    await this.run('progress.submitChanges', async () => {
      const summary = await this.requireWorkflows().submitChanges(setup);
      const { changed, resubmitted, refused, unseen } = summary;
      const sum = changed + refused + unseen;
      this.say(refused > 0 ? 'error' : sum === 0 ? 'info' : 'success', () =>
        sum === 0
          ? this.t('run.nothing')
          : this.t('run.doneChanges', { changed, resubmitted, refused, unseen }),
      );
    });
  }

  private renderRunSummary(): void {
    const summary = this.state.runSummary;
    if (summary === undefined) return;
    const notes: string[] = [];
    if (summary.invalidBeforeSend > 0)
      notes.push(this.t('run.invalidBeforeSend', { n: summary.invalidBeforeSend }));
    if (summary.skipped > 0) notes.push(this.t('run.skipped', { n: summary.skipped }));
    if ((summary.notRegistered ?? 0) > 0)
      notes.push(this.t('run.notRegistered', { n: summary.notRegistered ?? 0 }));
    if ((summary.hintsLeft ?? 0) > 0) notes.push(this.t('run.hintsLeft', { n: summary.hintsLeft ?? 0 }));
    if (summary.lostRows.length > 0) notes.push(this.t('run.lost', { rows: summary.lostRows.join(', ') }));
    for (const w of summary.warnings) notes.push(this.state.language === 'zh' ? w.message : w.messageEn);
    renderSummary(
      byId('run-summary'),
      {
        heading: this.t('run.summary', { rows: summary.rows }),
        byStatus: summary.byStatus,
        notes,
        colourOf: statusColour,
      },
      this.state.language,
    );
  }

  /** Issue 9, reviewers: the 延期与异议 sheet and the 报表 sheet. */
  private async reviewer(kind: 'lifecycle-build' | 'lifecycle-apply' | 'report'): Promise<void> {
    await this.run('progress.reviewer', async () => {
      const api = this.state.api;
      if (api === undefined || !this.state.inExcel) return;
      const excel = createExcelGateway();
      if (kind === 'report') {
        const month = (id: string) => {
          const value = (document.getElementById(id) as HTMLInputElement | null)?.value ?? '';
          return /^\d{4}-\d{2}$/.test(value) ? value : undefined;
        };
        const from = month('report-from');
        const to = month('report-to');
        const built = await createReportSheet({ excel, api }).build({
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
        });
        this.say('success', () => this.t('reviewer.reportBuilt', { ...built, chart: String(built.chart) }));
        return;
      }
      const sheet = createLifecycleReview({ excel, api });
      if (kind === 'lifecycle-build') {
        const built = await sheet.build();
        this.say('success', () => this.t('reviewer.lifecycleBuilt', { ...built }));
        return;
      }
      const applied = await sheet.apply();
      this.say(applied.errors.length > 0 ? 'warning' : 'success', () => {
        const lines = [this.t('reviewer.lifecycleApplied', { decided: applied.decided })];
        if (applied.errors.length > 0)
          lines.push(this.t('reviewer.lifecycleErrors', { n: applied.errors.length }));
        return lines.join('\n');
      });
    });
  }

  private async pool(kind: 'build' | 'apply'): Promise<void> {
    await this.run('progress.pool', async () => {
      const api = this.state.api;
      if (api === undefined || !this.state.inExcel) return;
      const pool = createPoolSheet({ excel: createExcelGateway(), api });
      if (kind === 'build') {
        const built = await pool.build();
        this.say('success', () => this.t('pool.builtCount', { ...built }));
      } else {
        const applied = await pool.applyClaims();
        this.say(applied.errors.length > 0 ? 'warning' : 'success', () => {
          const lines = [this.t('pool.claimedCount', { claimed: applied.claimed })];
          if (applied.errors.length > 0) lines.push(this.t('pool.claimErrors', { n: applied.errors.length }));
          return lines.join('\n');
        });
      }
    });
  }

  private async mine(kind: 'build' | 'apply'): Promise<void> {
    await this.run('progress.mine', async () => {
      const api = this.state.api;
      if (api === undefined || !this.state.inExcel) return;
      const mine = createMyRegistrations({ excel: createExcelGateway(), api });
      if (kind === 'build') {
        const built = await mine.build();
        this.say('success', () => this.t('mine.builtCount', { ...built }));
      } else {
        const applied = await mine.applyActions();
        this.say(applied.errors.length > 0 ? 'warning' : 'success', () => {
          const lines = [this.t('mine.appliedCount', { done: applied.done })];
          if (applied.errors.length > 0)
            lines.push(this.t('mine.actionErrors', { n: applied.errors.length }));
          return lines.join('\n');
        });
      }
    });
  }

  private async review(kind: 'build' | 'apply'): Promise<void> {
    await this.run('progress.review', async () => {
      const workflows = this.requireWorkflows();
      if (kind === 'build') {
        const built = await workflows.buildReviewSheet();
        this.say('success', () => this.t('review.builtCount', built));
      } else {
        const applied = await workflows.applyReviewDecisions();
        this.say(applied.errors.length > 0 ? 'warning' : 'success', () => {
          const lines = [this.t('review.appliedCount', { decided: applied.decided })];
          if (applied.errors.length > 0)
            lines.push(this.t('review.decisionErrors', { n: applied.errors.length }));
          return lines.join('\n');
        });
      }
    });
  }

  // ---- Upload ------------------------------------------------------------------------------------

  private chosenFile(): File | undefined {
    return this.uploadInput.files?.[0];
  }

  private showChosenFile(): void {
    const name = byId('upload-file-name');
    const file = this.chosenFile();
    if (file === undefined) {
      name.dataset['i18n'] = 'upload.noFile';
      name.textContent = this.t('upload.noFile');
    } else {
      delete name.dataset['i18n'];
      name.textContent = file.name;
    }
  }

  private async upload(): Promise<void> {
    const api = this.state.api;
    if (api === undefined) {
      this.say('error', () => this.t('error.notConnected'));
      return;
    }
    const file = this.chosenFile();
    if (file === undefined) {
      this.say('error', () => this.t('upload.pickFirst'));
      return;
    }
    if (!/\.(xlsx|csv)$/i.test(file.name)) {
      this.say('error', () => this.t('upload.wrongType'));
      return;
    }
    const mode = this.uploadMode.value === 'history' ? 'history' : 'submit';
    const dryRun = this.uploadDryRun.checked;
    await this.run('progress.uploading', async () => {
      this.clearDownload();
      const report = await api.uploadImport(file, file.name, { mode, dryRun });
      this.state.uploadReport = report;
      this.renderUploadReport();
      this.activity.report(0, 0, this.t('progress.downloading'));
      const blob = await api.downloadAnnotated(report.annotatedUrl);
      this.offerDownload(blob, report.file);
      this.say('success', () => this.t('upload.done'));
    });
  }

  private renderUploadReport(): void {
    const report = this.state.uploadReport;
    if (report === undefined) return;
    const notes = report.dryRun ? [this.t('upload.dryRunDone')] : [];
    renderSummary(
      byId('upload-summary'),
      {
        heading: this.t('upload.summary', {
          file: report.file,
          sheet: report.sheet,
          row: report.headerRow,
          rows: report.summary.rows,
        }),
        byStatus: report.summary.byStatus as StatusCounts,
        notes,
        colourOf: statusColour,
      },
      this.state.language,
    );
  }

  private offerDownload(blob: Blob, fileName: string): void {
    this.clearDownload();
    const url = URL.createObjectURL(blob);
    this.state.downloadUrl = url;
    this.downloadLink.setAttribute('href', url);
    this.downloadLink.setAttribute(
      'download',
      `${fileName.replace(/\.(xlsx|xlsm|csv|txt)$/i, '')}.checked.xlsx`,
    );
    this.downloadLink.hidden = false;
  }

  private clearDownload(): void {
    if (this.state.downloadUrl !== undefined) URL.revokeObjectURL(this.state.downloadUrl);
    this.state.downloadUrl = undefined;
    this.downloadLink.removeAttribute('href');
    this.downloadLink.hidden = true;
  }

  // ---- Rendering -----------------------------------------------------------------------------------

  private applyLanguage(): void {
    document.documentElement.lang = htmlLang(this.state.language);
    for (const element of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
      const key = element.dataset['i18n'];
      if (key !== undefined && isMessageKey(key)) element.textContent = this.t(key);
    }
    const banner = byId('host-banner');
    const bannerKey = banner.dataset['key'];
    if (bannerKey !== undefined && isMessageKey(bannerKey)) banner.textContent = this.t(bannerKey);
    if (this.state.api !== undefined) this.showConnected();
    if (this.lastMessage !== undefined) this.activity.say(this.lastMessage.kind, this.lastMessage.render());
    this.renderSetup();
    this.renderRunSummary();
    this.renderUploadReport();
    renderLegend(byId('legend'), this.state.language);
    this.renderNotices();
    this.adminPanel.render();
  }

  /** Each step's controls are live only when what it needs is there, and never during an operation. */
  private refreshControls(): void {
    const has: Record<string, boolean> = {
      excel: this.state.inExcel,
      connected: this.state.api !== undefined,
      prepared: this.state.applied !== undefined,
      reviewer: this.state.reviewer,
      admin: this.state.admin,
    };
    for (const section of document.querySelectorAll<HTMLElement>('section[data-needs]')) {
      const needs = (section.dataset['needs'] ?? '').split(/\s+/).filter((n) => n !== '');
      const ready = needs.every((n) => has[n] === true);
      section.classList.toggle('disabled', !ready);
      if (section.id === 'step-review') section.hidden = !this.state.reviewer;
      if (section.id === 'step-admin') section.hidden = !this.state.admin;
      for (const control of section.querySelectorAll('fluent-button, fluent-select, fluent-checkbox')) {
        control.toggleAttribute('disabled', !ready || this.state.busy);
      }
    }
    const applyReady =
      this.state.setup !== undefined && mappingProblem(this.state.chosen, this.state.language) === null;
    byId('apply').toggleAttribute(
      'disabled',
      !(has['excel'] && has['connected'] && applyReady) || this.state.busy,
    );
    // Steps are numbered as shown: without the review step, upload is 4.
    let number = 0;
    for (const section of document.querySelectorAll<HTMLElement>('section.step')) {
      if (section.hidden) continue;
      number += 1;
      const badge = section.querySelector('.step-number');
      if (badge) badge.textContent = String(number);
    }
    for (const id of ['connect', 'forget', 'language-toggle']) {
      byId(id).toggleAttribute('disabled', this.state.busy);
    }
  }
}

registerFluentComponents();
new TaskPane().start();

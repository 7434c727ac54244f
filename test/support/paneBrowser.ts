/**
 * The task pane in real Chromium for the browser suites: the pane comes from the real service,
 * office.js is answered by the in-memory fake Excel (test/fakes/fakeExcel.ts) bundled into one
 * classic script, and every request to another host is refused and recorded, as are page errors and
 * console errors (CSP violations are console errors). One copy, so the suites cannot drift apart in
 * what they allow the page to do.
 */
import path from 'node:path';
import { build } from 'esbuild';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import { expect } from 'vitest';
import { OFFICE_JS_CDN } from '../../server/http/addinRoutes.js';
import type { FakeOffice, FakeOfficeOptions } from '../fakes/fakeExcel.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');

/** The flags the brief prescribes for Debian's Chromium in CI. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** The fake and its installer as one classic script, served in place of office.js. */
async function fakeOfficeScript(options: FakeOfficeOptions): Promise<string> {
  const bundled = await build({
    stdin: {
      contents:
        `import { installFakeOffice } from './test/fakes/fakeExcel.ts';\n` +
        `installFakeOffice(window, ${JSON.stringify(options)});\n`,
      resolveDir: REPO,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    logLevel: 'silent',
  });
  return bundled.outputFiles[0]!.text;
}

export class PaneBrowser {
  /** Requests a page tried to send anywhere but the service. */
  readonly foreignRequests: string[] = [];
  /** Page errors and console errors. */
  readonly pageProblems: string[] = [];

  private constructor(
    private readonly browser: Browser,
    /** The service's origin, which the pane prefills as its service URL. */
    readonly origin: string,
    private readonly officeScript: string,
  ) {}

  /** Chromium with the fake Excel holding the given workbook, for the pane served at `origin`. */
  static async launch(origin: string, workbook: FakeOfficeOptions): Promise<PaneBrowser> {
    const officeScript = await fakeOfficeScript(workbook);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    return new PaneBrowser(browser, origin, officeScript);
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  /** A fresh context (its own storage, so its own token) with the pane loaded in a narrow page. */
  async openPane(options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await this.browser.newContext({ viewport: { width: 380, height: 900 }, ...options });
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(`${this.origin}/`)) await route.continue();
      // Microsoft's office.js is where the pane loads it from; the test answers with the fake.
      else if (url === OFFICE_JS_CDN) {
        await route.fulfill({
          status: 200,
          contentType: 'text/javascript; charset=utf-8',
          body: this.officeScript,
        });
      } else {
        this.foreignRequests.push(url);
        await route.abort('blockedbyclient');
      }
    });
    const page = await context.newPage();
    page.on('pageerror', (err) => this.pageProblems.push(`pageerror: ${err.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // A sales user's token is probed against the review queue; the 403 is expected.
      if (message.location().url.includes('/api/review-queue')) return;
      this.pageProblems.push(`console: ${message.text()} (${message.location().url})`);
    });
    await page.goto(`${this.origin}/addin/taskpane.html`);
    return { context, page };
  }

  /** Connects with `token`; the message must be one of `kinds` and say 已连接. Returns its text. */
  async connect(page: Page, token: string, kinds: string[] = ['success', 'warning']): Promise<string> {
    // The service URL is prefilled with the pane's own origin.
    await expect
      .poll(() => page.locator('#service-url').evaluate((el) => (el as HTMLInputElement).value))
      .toBe(this.origin);
    await page.locator('#token input').fill(token);
    await page.locator('#connect').click();
    const text = await waitForMessage(page, kinds);
    expect(text).toContain('已连接');
    return text;
  }
}

/** Waits for the pane's work to end and its message to show; the message must be one of `kinds`. */
export async function waitForMessage(
  page: Page,
  kinds: string[] = ['success', 'warning', 'info'],
): Promise<string> {
  await page.locator('#progress').waitFor({ state: 'hidden' });
  const message = page.locator('#message');
  await message.waitFor({ state: 'visible' });
  const kind = (await message.getAttribute('data-kind')) ?? '';
  const text = await message.innerText();
  expect(kinds, `message (${kind}): ${text}`).toContain(kind);
  return text;
}

/** Values of a range of the fake workbook inside the page. */
export async function workbookValues(
  page: Page,
  sheet: string,
  range: string,
): Promise<(string | number | boolean)[][]> {
  return page.evaluate(
    ([s, r]) => (window as unknown as { __fakeOffice: FakeOffice }).__fakeOffice.workbook.values(s, r),
    [sheet, range] as const,
  );
}

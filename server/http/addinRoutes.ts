/**
 * The Excel add-in, served by the service under /addin/: the built task pane (dist/addin), and the
 * manifest with the service's public URL in place of the development URL it is written with.
 *
 * office.js comes from Microsoft's CDN (what Microsoft requires of add-ins; the CSP allows exactly
 * that origin): the @microsoft/office-js npm package (1.1.110) is no longer maintained, and its host
 * scripts lack objects that hosts report as supported (Worksheet.notes on a host answering
 * isSetSupported('ExcelApi', '1.18')). BAOBEI_OFFICE_JS=local serves the package copy at
 * /addin/vendor/ for offline test rigs only (the service logs a warning).
 *
 * The manifest must carry https:// URLs (Office loads nothing else, except from localhost): behind a
 * TLS-terminating proxy, BAOBEI_TRUST_PROXY lets X-Forwarded-Proto/Host name the public origin; a
 * manifest that would name plain http on another host is refused, saying how to fix it. Its Id is
 * stable per deployment and differs between deployments (BAOBEI_MANIFEST_ID, or derived from the
 * public origin), so staging and production can be installed side by side.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router, type Request, type Response } from 'express';

/** The checkout holding manifest.xml: two levels up from the sources, three from the build in dist/. */
function repoDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    dir = path.dirname(dir);
    if (existsSync(path.join(dir, 'manifest.xml')) && existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The origin manifest.xml is written with; replaced by the service's own when served. */
export const MANIFEST_DEV_ORIGIN = 'https://localhost:3000';
/** Microsoft's office.js for add-ins (the URL its documentation requires). */
export const OFFICE_JS_CDN = 'https://appsforoffice.microsoft.com/lib/1/hosted/office.js';
/** How the pages refer to office.js in the build; swapped for the CDN URL when served. */
const OFFICE_JS_LOCAL_SRC = 'src="vendor/office.js"';

export interface AddinRoutesOptions {
  /** BAOBEI_PUBLIC_URL; when absent, the origin the request came to. */
  publicUrl?: string | undefined;
  /** BAOBEI_OFFICE_JS: `cdn` (default) or `local` (the npm package copy, for offline rigs). */
  officeJs?: 'cdn' | 'local';
  /** BAOBEI_MANIFEST_ID; when absent, derived from the public origin. */
  manifestId?: string | undefined;
  distDir?: string;
  officeJsDir?: string;
  manifestFile?: string;
}

/**
 * A manifest Id for a deployment: a name-based UUID (version 5 layout) of its public origin, so the
 * same deployment always gets the same Id and two deployments never share one.
 */
export function manifestIdFor(origin: string): string {
  const hash = createHash('sha1').update(`baobei-addin:${origin.toLowerCase()}`).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Office accepts plain http only from the machine itself. */
function isLocalHost(base: string): boolean {
  const host = new URL(base).hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host.endsWith('.localhost');
}

export function defaultOfficeJsDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@microsoft/office-js/package.json')), 'dist');
}

/** A Host header is client input: accept only what a host name and port can hold before it goes into XML. */
const HOST_PATTERN = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function baseUrl(req: Request, publicUrl: string | undefined): string | undefined {
  if (publicUrl !== undefined) return publicUrl.replace(/\/+$/, '');
  // req.host and req.protocol honour X-Forwarded-Host/-Proto only from a proxy BAOBEI_TRUST_PROXY trusts.
  const host = req.host;
  if (host === undefined || !HOST_PATTERN.test(host)) return undefined;
  return `${req.protocol}://${host}`;
}

const NOT_HTTPS = (base: string) =>
  `清单里的地址必须是 https://（Office 只从本机接受 http）：现在是 ${base}。\n` +
  '请设置 BAOBEI_PUBLIC_URL=https://…，或在 HTTPS 反向代理后运行并设置 BAOBEI_TRUST_PROXY（见 docs/operations.md）。\n' +
  `The manifest's URLs must be https:// (Office accepts http only from localhost); they would be ${base}.\n` +
  'Set BAOBEI_PUBLIC_URL=https://…, or run behind an HTTPS reverse proxy with BAOBEI_TRUST_PROXY set (docs/operations.md).\n';

const NOT_BUILT =
  '任务窗格还没有构建：请运行 npm run build:addin，然后刷新。\n' +
  'The task pane is not built yet: run npm run build:addin, then reload.\n';

export function addinRoutes(options: AddinRoutesOptions = {}): Router {
  const repo = repoDir();
  const distDir = options.distDir ?? path.join(repo, 'dist', 'addin');
  const officeJs = options.officeJs ?? 'cdn';
  const manifestFile = options.manifestFile ?? path.join(repo, 'manifest.xml');
  const router = Router();

  router.get('/manifest.xml', async (req, res) => {
    const base = baseUrl(req, options.publicUrl);
    if (base === undefined) {
      res.status(400).type('text/plain; charset=utf-8').send('Bad Host header\n');
      return;
    }
    if (!base.startsWith('https://') && !isLocalHost(base)) {
      res
        .status(409)
        .type('text/plain; charset=utf-8')
        .set('Cache-Control', 'no-store')
        .send(NOT_HTTPS(base));
      return;
    }
    let xml = (await readFile(manifestFile, 'utf8')).replaceAll(MANIFEST_DEV_ORIGIN, base);
    if (base !== MANIFEST_DEV_ORIGIN || options.manifestId !== undefined) {
      const id = options.manifestId ?? manifestIdFor(base);
      xml = xml.replace(/<Id>[^<]*<\/Id>/, `<Id>${id}</Id>`);
    }
    res
      .status(200)
      .type('application/xml; charset=utf-8')
      .set('Cache-Control', 'no-store')
      .set('Content-Disposition', 'inline; filename="manifest.xml"')
      .send(xml);
  });

  // The package copy, for offline rigs: office.js loads its localized strings and host scripts from
  // beside itself, so the whole dist is served.
  if (officeJs === 'local') {
    const officeJsDir = options.officeJsDir ?? defaultOfficeJsDir();
    router.use('/vendor', express.static(officeJsDir, { index: false, maxAge: '1d' }), notFound);
  }

  router.use((req, res, next) => {
    if (!existsSync(path.join(distDir, 'taskpane.html'))) {
      res.status(503).type('text/plain; charset=utf-8').set('Cache-Control', 'no-store').send(NOT_BUILT);
      return;
    }
    if (req.path === '/') {
      res.redirect(302, `${req.baseUrl}/taskpane.html`);
      return;
    }
    next();
  });

  // The pages name office.js: Microsoft's CDN, or the package copy on an offline rig.
  router.get(/^\/[a-z-]+\.html$/, async (req, res, next) => {
    const file = path.join(distDir, req.path);
    if (!existsSync(file)) {
      next();
      return;
    }
    const html = await readFile(file, 'utf8');
    res
      .status(200)
      .type('text/html; charset=utf-8')
      .set('Cache-Control', 'no-cache')
      .send(officeJs === 'cdn' ? html.replaceAll(OFFICE_JS_LOCAL_SRC, `src="${OFFICE_JS_CDN}"`) : html);
  });

  router.use(
    express.static(distDir, {
      index: false,
      // Office caches task pane files hard; revalidate (ETag) so a new build shows at once.
      cacheControl: false,
      setHeaders: (res, file) => {
        res.setHeader('Cache-Control', 'no-cache');
        // Office on the web shows the icons from its own origin.
        if (file.endsWith('.png')) res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
      },
    }),
  );

  router.use(notFound);
  return router;
}

function notFound(req: Request, res: Response): void {
  res
    .status(404)
    .type('text/plain; charset=utf-8')
    .send(`Not found: ${req.originalUrl.split('?')[0]}\n`);
}

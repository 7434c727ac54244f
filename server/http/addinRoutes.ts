/**
 * The Excel add-in, served by the service under /addin/: the built task pane (dist/addin), office.js
 * from the @microsoft/office-js package at /addin/vendor/ (no CDN), and the manifest with the
 * service's public URL in place of the development URL it is written with.
 */
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

export interface AddinRoutesOptions {
  /** BAOBEI_PUBLIC_URL; when absent, the origin the request came to. */
  publicUrl?: string | undefined;
  distDir?: string;
  officeJsDir?: string;
  manifestFile?: string;
}

export function defaultOfficeJsDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@microsoft/office-js/package.json')), 'dist');
}

/** A Host header is client input: accept only what a host name and port can hold before it goes into XML. */
const HOST_PATTERN = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function baseUrl(req: Request, publicUrl: string | undefined): string | undefined {
  if (publicUrl !== undefined) return publicUrl.replace(/\/+$/, '');
  const host = req.get('host');
  if (host === undefined || !HOST_PATTERN.test(host)) return undefined;
  return `${req.protocol}://${host}`;
}

const NOT_BUILT =
  '任务窗格还没有构建：请运行 npm run build:addin，然后刷新。\n' +
  'The task pane is not built yet: run npm run build:addin, then reload.\n';

export function addinRoutes(options: AddinRoutesOptions = {}): Router {
  const repo = repoDir();
  const distDir = options.distDir ?? path.join(repo, 'dist', 'addin');
  const officeJsDir = options.officeJsDir ?? defaultOfficeJsDir();
  const manifestFile = options.manifestFile ?? path.join(repo, 'manifest.xml');
  const router = Router();

  router.get('/manifest.xml', async (req, res) => {
    const base = baseUrl(req, options.publicUrl);
    if (base === undefined) {
      res.status(400).type('text/plain; charset=utf-8').send('Bad Host header\n');
      return;
    }
    const xml = (await readFile(manifestFile, 'utf8')).replaceAll(MANIFEST_DEV_ORIGIN, base);
    res
      .status(200)
      .type('application/xml; charset=utf-8')
      .set('Cache-Control', 'no-store')
      .set('Content-Disposition', 'inline; filename="manifest.xml"')
      .send(xml);
  });

  // office.js loads its localized strings and host scripts from beside itself, so the whole dist is served.
  router.use('/vendor', express.static(officeJsDir, { index: false, maxAge: '1d' }), notFound);

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

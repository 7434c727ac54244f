/**
 * Builds the task pane into dist/addin/: one ES2020 bundle (UI, workflows, core, Fluent UI), the
 * pages, the stylesheet, the old-webview script and the icons. The service serves that folder at
 * /addin/, pointing the pages at Microsoft's office.js (server/http/addinRoutes.ts).
 * Run with `npm run build:addin` (tsx addin/build.ts) or call buildAddin() from a test.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ADDIN_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = path.resolve(ADDIN_DIR, '..');
/** Where the service looks for the built task pane. */
export const ADDIN_DIST_DIR = path.join(REPO_DIR, 'dist', 'addin');

/** Pages copied as they are, after the bundle's name gets its content hash. */
const PAGES = ['taskpane.html', 'help.html'];
const STYLESHEETS = ['taskpane.css'];
/** Classic scripts copied as they are (the old-webview message must not depend on the bundle). */
const SCRIPTS = ['legacy.js'];

export interface BuildAddinOptions {
  outDir?: string;
  /** Off for debugging; the service ships the minified bundle. */
  minify?: boolean;
}

export interface BuiltAddin {
  outDir: string;
  /** Paths relative to outDir. */
  files: string[];
}

function shortHash(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

export async function buildAddin(options: BuildAddinOptions = {}): Promise<BuiltAddin> {
  const outDir = options.outDir ?? ADDIN_DIST_DIR;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(path.join(outDir, 'assets'), { recursive: true });

  await build({
    entryPoints: [path.join(ADDIN_DIR, 'taskpane.ts')],
    outfile: path.join(outDir, 'taskpane.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: options.minify ?? true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'silent',
  });

  // Office caches task pane files hard; a content hash in the URL makes a new build load at once.
  const versions = new Map<string, string>();
  versions.set('taskpane.js', shortHash(await readFile(path.join(outDir, 'taskpane.js'))));
  for (const sheet of STYLESHEETS) {
    const css = await readFile(path.join(ADDIN_DIR, sheet));
    await writeFile(path.join(outDir, sheet), css);
    versions.set(sheet, shortHash(css));
  }
  for (const script of SCRIPTS) {
    const js = await readFile(path.join(ADDIN_DIR, script));
    await writeFile(path.join(outDir, script), js);
    versions.set(script, shortHash(js));
  }
  for (const page of PAGES) {
    let html = await readFile(path.join(ADDIN_DIR, page), 'utf8');
    for (const [file, hash] of versions) {
      html = html.replaceAll(`"${file}"`, `"${file}?v=${hash}"`);
    }
    await writeFile(path.join(outDir, page), html);
  }

  const assets = (await readdir(path.join(ADDIN_DIR, 'assets'))).filter((f) => f.endsWith('.png'));
  for (const asset of assets) {
    await copyFile(path.join(ADDIN_DIR, 'assets', asset), path.join(outDir, 'assets', asset));
  }

  const files = (await readdir(outDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(outDir, path.join(entry.parentPath, entry.name)))
    .sort();
  return { outDir, files };
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  const built = await buildAddin();
  console.log(`task pane built: ${path.relative(REPO_DIR, built.outDir)}/ (${built.files.length} files)`);
}

/**
 * The `baobei` command as child processes in tests start it. `bin/baobei.js` runs the TypeScript
 * through tsx, which loads and transforms some 300 modules in every process: 1–2 s a spawn on an idle
 * machine, 5–10 s when the machine is loaded, and a file spawning thirty of them ran past its
 * timeouts. Vitest's global setup (test/buildAddinOnce.ts) transpiles server/ and core/ once per run
 * with esbuild — the transformer tsx uses, file by file, no bundling — into dist/test-cli-PID/, laid
 * out as `npm run build` lays out dist/ (package.json beside, so the version and the add-in's files
 * are found as in a build), and names it in BAOBEI_TEST_CLI for the test processes. Outside vitest
 * (benches) nothing names it and the children run bin/baobei.js. Tests that are about the command
 * as shipped (importIsolation's worker under tsx, cli.test.ts's --version) pass SHIPPED_CLI.
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The environment variable naming the transpiled entry, set for the test processes. */
export const CLI_ENTRY_VARIABLE = 'BAOBEI_TEST_CLI';

/**
 * How long a test that starts the command a few times may take: a start costs about 0.5 s on an
 * idle machine and up to 10 s on the 2-core CI machine under load (more with the service's own
 * start), and vitest's 30 s left tests of four or five starts at its edge. Tests that start it more
 * often name a larger time of their own.
 */
export const CLI_TEST_TIMEOUT = 120_000;

/** The command as shipped: bin/baobei.js, the TypeScript sources through tsx. */
export const SHIPPED_CLI = path.join(REPO_ROOT, 'bin', 'baobei.js');

/** What a test's child process runs as `baobei`: the transpiled entry of this run, else the bin. */
export function cliEntry(): string {
  return process.env[CLI_ENTRY_VARIABLE] ?? SHIPPED_CLI;
}

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(REPO_ROOT, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Transpiles the service once; resolves with the entry and a clean-up that removes the folder. */
export async function buildCli(): Promise<{ entry: string; remove: () => Promise<void> }> {
  // A folder of this run's own: two vitest runs in one checkout must not rewrite each other's.
  const outdir = path.join(REPO_ROOT, 'dist', `test-cli-${process.pid}`);
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [...(await sources('server')), ...(await sources('core'))],
    outdir,
    outbase: REPO_ROOT,
    format: 'esm',
    platform: 'node',
    // The engines' Node: import attributes (core/calendar.ts's JSON) are kept, as Node requires them.
    target: 'node20.19',
    bundle: false,
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  // The build's package.json: "type": "module" for the .js files, and the version the CLI prints.
  await copyFile(path.join(REPO_ROOT, 'package.json'), path.join(outdir, 'package.json'));
  return {
    entry: path.join(outdir, 'server', 'cli.js'),
    remove: () => rm(outdir, { recursive: true, force: true }),
  };
}

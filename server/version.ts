/**
 * The package version, read once from package.json: one level up from the sources (server/), two
 * from a build in dist/. A module of its own so that `baobei --version` and the CLI's help load
 * nothing else of the service.
 */
import { readFileSync } from 'node:fs';

export const VERSION: string = packageVersion();

function packageVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'baobei') return pkg.version;
    } catch {
      // not there: try the next level
    }
  }
  return '0.0.0';
}

/**
 * Once before any test file runs:
 * - builds the task pane. The service serves dist/addin/, and building wipes and rewrites that
 *   folder: a suite that built it while another suite fetched /addin/* made the outcome depend on
 *   which file ran first (a 503 "not built" for one, a missing file for the other);
 * - transpiles the service for the tests' child processes (test/support/builtCli.ts): a spawn
 *   through tsx cost seconds each on a loaded machine. Removed again when the run ends.
 */
import { buildAddin } from '../addin/build.js';
import { buildCli, CLI_ENTRY_VARIABLE } from './support/builtCli.js';

export default async function setup(): Promise<() => Promise<void>> {
  await buildAddin();
  const cli = await buildCli();
  // Test files run in forks of this process, which inherit its environment.
  process.env[CLI_ENTRY_VARIABLE] = cli.entry;
  return cli.remove;
}

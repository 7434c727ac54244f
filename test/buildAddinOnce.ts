/**
 * Builds the task pane once before any test file runs. The service serves dist/addin/, and
 * building wipes and rewrites that folder: a suite that built it while another suite fetched
 * /addin/* made the outcome depend on which file ran first (a 503 "not built" for one, a
 * missing file for the other).
 */
import { buildAddin } from '../addin/build.js';

export default async function setup(): Promise<void> {
  await buildAddin();
}

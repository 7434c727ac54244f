/** /api/sheets — link, list, pause, resume, unlink and sync Google Sheets (issue 11; reviewers and admins). */
import { Router } from 'express';
import { z } from 'zod';
import { linkRequestSchema, type SheetSyncService } from '../sheets/sheetSync.js';
import { sheetLinkSchema } from '../sheets/sheetLinks.js';
import { linkSetupReportSchema } from '../sheets/sheetLinkSetup.js';
import { actor } from './auth.js';
import { parseOrThrow } from './errors.js';

export const sheetSyncQuerySchema = z.object({ dryRun: z.enum(['true', 'false']).optional() }).strict();

/** POST /api/sheets answers the link, whom to share with, the header mapping and what was set in the sheet. */
export const sheetLinkResponseSchema = sheetLinkSchema.extend({
  shareWith: z.string().describe('The service account to share the spreadsheet with, as Editor'),
  mapping: z.array(
    z.object({
      column: z.number().int().describe('1-based (A = 1)'),
      header: z.string(),
      field: z.string().nullable(),
      confidence: z.number().min(0).max(1),
      alternatives: z.array(z.object({ field: z.string(), confidence: z.number() }).loose()),
    }),
  ),
  setup: linkSetupReportSchema,
});

export function sheetRoutes(sheets: SheetSyncService): Router {
  const router = Router();

  router.get('/sheets', async (req, res) => {
    res.json({ items: await sheets.list(actor(req)) });
  });

  router.post('/sheets', async (req, res) => {
    const a = actor(req);
    res.status(201).json(await sheets.link(a, parseOrThrow(linkRequestSchema, req.body)));
  });

  router.post('/sheets/:id/pause', async (req, res) => {
    res.json(await sheets.setPaused(actor(req), req.params.id, true));
  });

  router.post('/sheets/:id/resume', async (req, res) => {
    res.json(await sheets.setPaused(actor(req), req.params.id, false));
  });

  router.post('/sheets/:id/sync', async (req, res) => {
    const a = actor(req);
    const q = parseOrThrow(sheetSyncQuerySchema, req.query);
    res.json(await sheets.sync(a, req.params.id, { dryRun: q.dryRun === 'true' }));
  });

  router.delete('/sheets/:id', async (req, res) => {
    await sheets.unlink(actor(req), req.params.id);
    res.status(204).end();
  });

  return router;
}

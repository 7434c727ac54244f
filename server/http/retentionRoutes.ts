/** /api/retention/destructions — R39: request, list, approve or reject a destruction (administrators). */
import { Router } from 'express';
import { z } from 'zod';
import type { RetentionService } from '../services/retentionService.js';
import { actor } from './auth.js';
import { parseOrThrow } from './errors.js';

export const destructionRejectBodySchema = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

export function retentionRoutes(retention: RetentionService): Router {
  const router = Router();

  router.get('/retention/destructions', async (req, res) => {
    res.json({ items: await retention.list(actor(req)) });
  });

  router.post('/retention/destructions', async (req, res) => {
    res.status(201).json(await retention.request(actor(req)));
  });

  router.post('/retention/destructions/:id/approve', async (req, res) => {
    res.json(await retention.approve(actor(req), req.params.id));
  });

  router.post('/retention/destructions/:id/reject', async (req, res) => {
    const a = actor(req);
    const body = parseOrThrow(destructionRejectBodySchema, req.body);
    res.json(await retention.reject(a, req.params.id, body.reason));
  });

  return router;
}

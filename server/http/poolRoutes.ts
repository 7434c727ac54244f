/** /api/pool (R44) and /api/reports/service (service compliance): parse with zod, call a service. */
import { Router } from 'express';
import type { PoolService } from '../services/poolService.js';
import type { RegistrationService, ServiceDeps } from '../services/registrationService.js';
import { serviceReport } from '../services/serviceReport.js';
import { actor } from './auth.js';
import { poolQuerySchema, summaryQuerySchema } from './apiSchemas.js';
import { parseOrThrow } from './errors.js';

export function poolRoutes(pool: PoolService, deps: ServiceDeps, registrations: RegistrationService): Router {
  const router = Router();

  router.get('/pool', async (req, res) => {
    const q = parseOrThrow(poolQuerySchema, req.query);
    res.json(await pool.list(actor(req), q));
  });

  router.get('/reports/service', async (req, res) => {
    const q = parseOrThrow(summaryQuerySchema, req.query);
    res.json(await serviceReport(deps, registrations, actor(req), q.month));
  });

  return router;
}

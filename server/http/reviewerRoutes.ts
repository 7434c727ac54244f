/**
 * The reviewer's desk (issue 9): extension requests and objections waiting for a decision, and
 * the 报表 figures. Decisions themselves go through the existing action routes
 * (`/extension/review`; an objection is decided by `/review` on the objector's record).
 */
import { Router } from 'express';
import { dayOf } from '../../core/day.js';
import type { RegistrationService, ServiceDeps } from '../services/registrationService.js';
import { reviewActions, reviewReport } from '../services/reviewerDesk.js';
import { actor } from './auth.js';
import { reviewReportFromAloneSchema, reviewReportQuerySchema } from './apiSchemas.js';
import { parseOrThrow } from './errors.js';

export function reviewerRoutes(deps: ServiceDeps, registrations: RegistrationService): Router {
  const router = Router();

  router.get('/review-queue/actions', async (req, res) => {
    res.json(await reviewActions(deps, registrations, actor(req)));
  });

  router.get('/reports/review', async (req, res) => {
    const q = parseOrThrow(reviewReportQuerySchema, req.query);
    const thisMonth = dayOf(deps.clock()).slice(0, 7);
    if (q.from !== undefined && q.to === undefined) {
      parseOrThrow(reviewReportFromAloneSchema(thisMonth), { from: q.from });
    }
    // `to` resolved here, with the month just checked, so a month turning meanwhile changes nothing.
    res.json(await reviewReport(deps, registrations, actor(req), { ...q, to: q.to ?? thisMonth }));
  });

  return router;
}

/** /api/check and /api/registrations: thin handlers — parse with zod, call a service, map to HTTP. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Actor } from '../services/actor.js';
import type { LifecycleService } from '../services/lifecycleService.js';
import type { RecordView } from '../services/recordView.js';
import type { RegistrationService } from '../services/registrationService.js';
import { actor } from './auth.js';
import {
  closeBodySchema,
  extensionBodySchema,
  extensionReviewBodySchema,
  followUpBodySchema,
  gradeBodySchema,
  ifMatchSchema,
  listQuerySchema,
  objectionBodySchema,
  reviewBodySchema,
  registrationNoSchema,
  reviewQueueQuerySchema,
  rowsBodySchema,
  transferBodySchema,
} from './apiSchemas.js';
import { parseOrThrow } from './errors.js';

const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, '须为可打印 ASCII 字符 / printable ASCII');

export function registrationRoutes(registrations: RegistrationService, lifecycle: LifecycleService): Router {
  const router = Router();

  router.post('/check', async (req, res) => {
    const body = parseOrThrow(rowsBodySchema, req.body);
    res.json({ results: await registrations.check(actor(req), body.rows) });
  });

  router.post('/registrations', async (req, res) => {
    const body = parseOrThrow(rowsBodySchema, req.body);
    const header = req.get('Idempotency-Key');
    const key =
      header === undefined ? undefined : parseOrThrow(idempotencyKeySchema, header, 'Idempotency-Key');
    const outcome = await registrations.submit(actor(req), body.rows, {
      idempotencyKey: key,
      body: req.body,
    });
    if (outcome.replayed) res.set('Idempotent-Replayed', 'true');
    res.json({ results: outcome.results });
  });

  router.get('/registrations', async (req, res) => {
    const q = parseOrThrow(listQuerySchema, req.query);
    res.json(
      await registrations.list(actor(req), {
        ...(q.status ? { statuses: q.status } : {}),
        ...(q.no ? { nos: q.no } : {}),
        ...(q.registrant !== undefined ? { registrant: q.registrant } : {}),
        ...(q.q !== undefined ? { q: q.q } : {}),
        ...(q.expiringWithinDays !== undefined ? { expiringWithinDays: q.expiringWithinDays } : {}),
        limit: q.limit,
        offset: q.offset,
      }),
    );
  });

  router.get('/review-queue', async (req, res) => {
    const page = parseOrThrow(reviewQueueQuerySchema, req.query);
    res.json(await registrations.reviewQueue(actor(req), page));
  });

  router.get('/registrations/:no', async (req, res) => {
    sendRecord(res, await registrations.get(actor(req), no(req.params['no'])));
  });

  router.post('/registrations/:no/review', async (req, res) => {
    const body = parseOrThrow(reviewBodySchema, req.body);
    sendRecord(res, await lifecycle.review(actionActor(req), no(req.params['no']), body));
  });

  router.post('/registrations/:no/extension', async (req, res) => {
    const body = parseOrThrow(extensionBodySchema, req.body);
    sendRecord(res, await lifecycle.requestExtension(actionActor(req), no(req.params['no']), body.reason));
  });

  router.post('/registrations/:no/extension/review', async (req, res) => {
    const body = parseOrThrow(extensionReviewBodySchema, req.body);
    sendRecord(
      res,
      await lifecycle.reviewExtension(actionActor(req), no(req.params['no']), body.decision, body.reason),
    );
  });

  router.post('/registrations/:no/objection', async (req, res) => {
    const body = parseOrThrow(objectionBodySchema, req.body);
    sendRecord(res, await lifecycle.object(actionActor(req), no(req.params['no']), body.reason));
  });

  router.post('/registrations/:no/close', async (req, res) => {
    const body = parseOrThrow(closeBodySchema, req.body);
    sendRecord(res, await lifecycle.close(actionActor(req), no(req.params['no']), body.outcome, body.note));
  });

  router.post('/registrations/:no/follow-ups', async (req, res) => {
    const body = parseOrThrow(followUpBodySchema, req.body);
    sendRecord(res.status(201), await lifecycle.addFollowUp(actionActor(req), no(req.params['no']), body));
  });

  router.put('/registrations/:no/grade', async (req, res) => {
    const body = parseOrThrow(gradeBodySchema, req.body);
    sendRecord(
      res,
      await lifecycle.changeGrade(actionActor(req), no(req.params['no']), body.grade, body.reason),
    );
  });

  router.post('/registrations/:no/transfer', async (req, res) => {
    const body = parseOrThrow(transferBodySchema, req.body);
    sendRecord(res, await lifecycle.transfer(actionActor(req), no(req.params['no']), body.to));
  });

  return router;
}

function no(value: string | undefined): string {
  return parseOrThrow(registrationNoSchema, value, 'no');
}

/** A registration number from a path (`:no`), or 400 naming it. */
export const registrationNo = no;

/** A single-record response carries the record's ETag (what a change sends back as If-Match). */
function sendRecord(res: Response, view: RecordView): void {
  res.set('ETag', view.etag).json(view);
}

/**
 * The caller, with the version an optional If-Match names: an action on a registration sent with
 * the ETag the client last saw is refused (412) if the record has changed since.
 */
function actionActor(req: Request): Actor {
  const header = req.get('If-Match');
  const a = actor(req);
  return header === undefined
    ? a
    : { ...a, expectedVersion: parseOrThrow(ifMatchSchema, header.trim(), 'If-Match') };
}

/**
 * PATCH /api/registrations/:no (change, with If-Match) and POST /api/registrations/:no/resubmit
 * (R13): thin handlers — parse with zod, call the change service, answer with the record's ETag.
 */
import { Router, type Request } from 'express';
import { DomainError, problem } from '../../core/problem.js';
import type { ChangeService } from '../services/changeService.js';
import { changeBodySchema, ifMatchSchema, resubmitBodySchema } from './apiSchemas.js';
import { actor } from './auth.js';
import { parseOrThrow } from './errors.js';
import { registrationNo } from './registrationRoutes.js';

export function changeRoutes(changes: ChangeService): Router {
  const router = Router();

  router.patch('/registrations/:no', async (req, res) => {
    const no = registrationNo(req.params['no']);
    const version = ifMatch(req);
    if (version === undefined) {
      throw new DomainError(
        problem(
          'registration.version_required',
          '更改报备须带 If-Match 头：报备的 ETag（查询报备时返回的 etag），以免覆盖他人的更改',
          'A change needs an If-Match header with the registration’s ETag (the etag a read returned), so no one’s change is overwritten',
          'If-Match',
        ),
      );
    }
    const body = parseOrThrow(changeBodySchema, req.body);
    const result = await changes.change(
      actor(req),
      no,
      { changes: body.changes, reason: body.reason, changedOn: body.changedOn },
      version,
    );
    res.set('ETag', result.record.etag).json(result);
  });

  router.post('/registrations/:no/resubmit', async (req, res) => {
    const no = registrationNo(req.params['no']);
    const body = parseOrThrow(resubmitBodySchema, req.body ?? {});
    const result = await changes.resubmit(actor(req), no, { reason: body.reason }, ifMatch(req));
    res.set('ETag', result.record.etag).json(result);
  });

  return router;
}

/** The version an If-Match header names; undefined when there is none. */
function ifMatch(req: Request): number | undefined {
  const header = req.get('If-Match');
  return header === undefined ? undefined : parseOrThrow(ifMatchSchema, header.trim(), 'If-Match');
}

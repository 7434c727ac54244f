/** Users, policy, audit and reports (notifications: notifyRoutes.ts). */
import { Router } from 'express';
import { dayOf } from '../../core/day.js';
import {
  resolvePolicy,
  serviceRulesChangedOn,
  serviceRulesSince,
  type Policy,
  type PolicyInput,
} from '../../core/policy.js';
import { z } from 'zod';
import { DomainError } from '../../core/problem.js';
import { requireRole } from '../services/actor.js';
import type { LifecycleService } from '../services/lifecycleService.js';
import type { RegistrationService } from '../services/registrationService.js';
import { monthlySummary } from '../services/reportService.js';
import { UserAdministration } from '../services/userAdministration.js';
import { createUser, userView } from '../services/userService.js';
import type { Store } from '../store/store.js';
import { actor } from './auth.js';
import {
  auditQuerySchema,
  handOverBodySchema,
  policyBodySchema,
  summaryQuerySchema,
  userBodySchema,
} from './apiSchemas.js';
import { parseOrThrow, zodProblem } from './errors.js';

export function adminRoutes(
  store: Store,
  registrations: RegistrationService,
  lifecycle: LifecycleService,
  clock: () => Date,
): Router {
  const router = Router();

  router.get('/me', (req, res) => {
    const { id, name, role, team } = actor(req);
    res.json({ id, name, role, ...(team !== undefined ? { team } : {}) });
  });

  router.post('/users', async (req, res) => {
    requireRole(actor(req), ['admin'], '创建用户', 'create users');
    const body = parseOrThrow(userBodySchema, req.body);
    res.status(201).json(await createUser(store, body, clock()));
  });

  router.get('/users', async (req, res) => {
    requireRole(actor(req), ['admin'], '查看用户', 'list users');
    const users = await store.read((tx) => tx.listUsers());
    res.json({ items: users.map(userView) });
  });

  const administration = new UserAdministration(store, registrations, clock);
  router.post('/users/:id/disable', async (req, res) => {
    res.json(await administration.disable(actor(req), req.params.id));
  });
  router.post('/users/:id/enable', async (req, res) => {
    res.json(await administration.enable(actor(req), req.params.id));
  });
  router.post('/users/:id/rotate-token', async (req, res) => {
    res.json(await administration.rotateToken(actor(req), req.params.id));
  });
  router.post('/users/:id/hand-over', async (req, res) => {
    // Role first: a non-administrator learns nothing about the body's validity.
    requireRole(actor(req), ['admin'], '移交离职人员的客户', 'hand over a leaver’s customers');
    const body = parseOrThrow(handOverBodySchema, req.body);
    res.json(await administration.handOver(actor(req), req.params.id, body.to));
  });

  router.get('/policy', async (_req, res) => {
    res.json(await registrations.policy());
  });

  router.put('/policy', async (req, res) => {
    const a = actor(req);
    requireRole(a, ['admin'], '修改政策', 'change the policy');
    const body = parseOrThrow(policyBodySchema, req.body);
    // zod fills in the default of every setting the body leaves out; keep only what the
    // administrator sent, or the standard defaults would override the chosen preset.
    const sent = new Set(Object.keys(req.body as object));
    // The days the service rules were switched on are the service's to keep, not the caller's: a
    // body echoing GET /api/policy back carries them and they are ignored.
    sent.delete('serviceRulesSince');
    sent.delete('serviceRulesChangedOn');
    sent.delete('lapsed');
    const input = Object.fromEntries(Object.entries(body).filter(([k]) => sent.has(k))) as PolicyInput;
    let resolved: Policy;
    try {
      resolved = resolvePolicy(input);
    } catch (err) {
      if (err instanceof z.ZodError) throw new DomainError(zodProblem(err));
      throw err;
    }
    const today = dayOf(clock());
    // What lapsed by today under the policy in force until now is written first, in the same write:
    // the new policy moves only deadlines not yet passed (LifecycleService.changeRules).
    const { result: policy, lapsed } = await lifecycle.changeRules('policy.update', async (tx) => {
      // A service rule (R31, R32, R42) switched on today applies from today: records are not voided
      // for visits missed before it existed (core/serviceCadence.ts, serviceClockStart); one changed
      // today never puts a deadline before today (serviceRulesChangedOn).
      const previous = await registrations.policy(tx);
      const next: Policy = {
        ...resolved,
        serviceRulesSince: serviceRulesSince(previous, resolved, today),
        serviceRulesChangedOn: serviceRulesChangedOn(previous, resolved, today),
      };
      await tx.putPolicy(next);
      return next;
    });
    // R19 (households joined or not) needs no re-key: every record keeps its household key, and the
    // policy only decides whether look-ups use it (core/matching.ts, identityKeys).
    await registrations.audit(a, 'policy.update', [], { preset: policy.preset });
    res.json({ ...policy, lapsed });
  });

  router.get('/audit', async (req, res) => {
    requireRole(actor(req), ['admin'], '查看审计日志', 'read the audit trail');
    const q = parseOrThrow(auditQuerySchema, req.query);
    res.json(
      await store.listAudit({
        ...(q.actor !== undefined ? { actor: q.actor } : {}),
        ...(q.record !== undefined ? { record: q.record } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
        limit: q.limit,
        offset: q.offset,
      }),
    );
  });

  router.get('/reports/summary', async (req, res) => {
    const q = parseOrThrow(summaryQuerySchema, req.query);
    res.json(await monthlySummary(store, registrations, actor(req), q.month, clock()));
  });

  return router;
}

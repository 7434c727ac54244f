/** /api/calendar/:year — the working-day schedule in force for a year, and administrators entering one. */
import { Router } from 'express';
import { z } from 'zod';
import { scheduleBodySchema } from '../../core/officialSchedule.js';
import { requireRole } from '../services/actor.js';
import type { CalendarService } from '../services/calendarService.js';
import { actor } from './auth.js';
import { parseOrThrow } from './errors.js';

const yearSchema = z.coerce.number().int().min(2000).max(2100);

export function calendarRoutes(calendars: CalendarService): Router {
  const router = Router();

  router.get('/calendar/:year', async (req, res) => {
    actor(req);
    const year = parseOrThrow(yearSchema, req.params['year'], 'year');
    // Another instance may have entered it since this one last looked.
    await calendars.refresh();
    res.json(calendars.view(year));
  });

  router.put('/calendar/:year', async (req, res) => {
    const a = actor(req);
    requireRole(a, ['admin'], '录入工作日安排', 'enter the working-day schedule');
    const year = parseOrThrow(yearSchema, req.params['year'], 'year');
    const body = parseOrThrow(scheduleBodySchema, req.body);
    res.json(await calendars.put(a, year, body));
  });

  return router;
}

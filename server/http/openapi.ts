/** The OpenAPI 3.1 document, generated from the same zod schemas the routes parse with. */
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { destructionSchema } from '../services/retentionService.js';
import { destructionRejectBodySchema } from './retentionRoutes.js';
import { sheetLinkResponseSchema, sheetSyncQuerySchema } from './sheetRoutes.js';
import { linkRequestSchema } from '../sheets/sheetSync.js';
import { sheetLinkSchema } from '../sheets/sheetLinks.js';
import * as api from './apiSchemas.js';
import * as notify from './notifyRoutes.js';
import { contactSchema, notifyDefaultsSchema, preferencesSchema } from '../notify/notifySettings.js';

type Method = RouteConfig['method'];

export function openApiDocument(version: string): unknown {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  const json = (schema: z.ZodType, description = 'OK') => ({
    description,
    content: { 'application/json': { schema } },
  });
  const errors = {
    400: json(api.errorResponseSchema, 'Invalid request (code request.invalid, field names the bad field)'),
    401: json(api.errorResponseSchema, 'Missing or invalid token'),
    403: json(api.errorResponseSchema, 'Not allowed for this role or record'),
    422: json(api.errorResponseSchema, 'Refused by a rule (code says which)'),
  };
  const noParam = z.object({ no: z.string().describe('Registration number, e.g. BB-2026-000123') });
  const add = (
    method: Method,
    path: string,
    summary: string,
    o: {
      body?: z.ZodType;
      query?: z.ZodObject;
      params?: z.ZodObject;
      response?: z.ZodType;
      status?: number;
      auth?: boolean;
      headers?: z.ZodObject;
      /** Statuses besides the common ones, with the codes they carry. */
      moreErrors?: Record<number, string>;
    } = {},
  ) => {
    registry.registerPath({
      method,
      path,
      summary,
      ...(o.auth === false ? {} : { security: [{ [bearer.name]: [] }] }),
      request: {
        ...(o.body ? { body: { content: { 'application/json': { schema: o.body } } } } : {}),
        ...(o.query ? { query: o.query } : {}),
        ...(o.params ? { params: o.params } : {}),
        ...(o.headers ? { headers: o.headers } : {}),
      },
      responses: {
        [o.status ?? 200]: json(o.response ?? z.object({})),
        ...errors,
        ...Object.fromEntries(
          Object.entries(o.moreErrors ?? {}).map(([status, text]) => [
            status,
            json(api.errorResponseSchema, text),
          ]),
        ),
      },
    });
  };
  add('get', '/api/health', 'Service health', { response: api.healthResponseSchema, auth: false });
  add('get', '/api/openapi.json', 'This OpenAPI document', { auth: false });
  add('post', '/api/check', 'Check rows against the register; nothing is saved (R3)', {
    body: api.rowsBodySchema,
    response: api.resultsResponseSchema,
  });
  add('post', '/api/registrations', 'Register rows (one result per row; Idempotency-Key replays)', {
    body: api.rowsBodySchema,
    response: api.resultsResponseSchema,
    headers: z.object({ 'Idempotency-Key': z.string().optional() }),
  });
  add('get', '/api/registrations', 'List registrations visible to the caller', {
    query: api.listQuerySchema,
    response: api.listResponseSchema,
  });
  add(
    'get',
    '/api/review-queue',
    'Pending and competing registrations grouped by customer, ranked (reviewers)',
  );
  add(
    'get',
    '/api/review-queue/actions',
    'Extension requests and objections waiting for a decision, with what the decision needs (reviewers; issue 9)',
    { response: api.reviewActionsResponseSchema },
  );
  add(
    'get',
    '/api/reports/review',
    '报表 (R41, R12): per person per month by status over a month range, expiring soon, review SLA and overdue reviews (reviewers, admins)',
    { query: api.reviewReportQuerySchema, response: api.reviewReportResponseSchema },
  );
  // Single-record responses carry the record's entity tag: a change sends it back as If-Match.
  const etagHeader = z.object({
    ETag: z.string().describe('The record’s version as an entity tag, e.g. "3"'),
  });
  const recordResponse = (status: number, schema: z.ZodType) => ({
    [status]: { ...json(schema), headers: etagHeader },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/registrations/{no}',
    summary: 'One registration with its history (and ranked competitors for reviewers); ETag header',
    security: [{ [bearer.name]: [] }],
    request: { params: noParam },
    responses: { ...recordResponse(200, api.recordResponseSchema), ...errors },
  });
  const action = (path: string, summary: string, body: z.ZodType, status = 200) =>
    registry.registerPath({
      method: 'post',
      path: `/api/registrations/{no}${path}`,
      summary,
      security: [{ [bearer.name]: [] }],
      request: { params: noParam, body: { content: { 'application/json': { schema: body } } } },
      responses: { ...recordResponse(status, api.recordResponseSchema), ...errors },
    });
  const changeErrors = {
    409: json(
      api.errorResponseSchema,
      'Refused: change.conflict (details.conflicts: the R3 view), change.duplicate, change.in_conflict, change.closed, change.ranking_locked, change.protection_granted, resubmit.*',
    ),
    412: {
      ...json(
        api.errorResponseSchema,
        'registration.version_mismatch: the record changed since that ETag; details.record is the record now (ETag header too)',
      ),
      headers: etagHeader,
    },
  };
  registry.registerPath({
    method: 'patch',
    path: '/api/registrations/{no}',
    summary:
      'Change fields of a registration (holder, reviewers of its team, admins): history, identity re-checked, If-Match required',
    security: [{ [bearer.name]: [] }],
    request: {
      params: noParam,
      headers: z.object({
        'If-Match': z.string().describe('The record’s ETag as a read returned it, e.g. "3"'),
      }),
      body: { content: { 'application/json': { schema: api.changeBodySchema } } },
    },
    responses: {
      ...recordResponse(200, api.changeResponseSchema),
      ...errors,
      ...changeErrors,
      428: json(api.errorResponseSchema, 'registration.version_required: no If-Match header'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/registrations/{no}/resubmit',
    summary: 'Resubmit a corrected rejected registration for review (holder; R13); If-Match optional',
    security: [{ [bearer.name]: [] }],
    request: {
      params: noParam,
      headers: z.object({ 'If-Match': z.string().optional() }),
      body: { content: { 'application/json': { schema: api.resubmitBodySchema } } },
    },
    responses: { ...recordResponse(200, api.changeResponseSchema), ...errors, ...changeErrors },
  });
  action('/review', 'Approve, reject or share (reviewers; R11, R12, R16)', api.reviewBodySchema);
  action('/extension', 'Ask for an extension (holder; R28)', api.extensionBodySchema);
  action('/extension/review', 'Decide an extension (reviewers)', api.extensionReviewBodySchema);
  action('/objection', 'Object to a lost conflict decision (R12)', api.objectionBodySchema);
  action(
    '/close',
    'Close: signed, lost to a competitor, false information (ban, R27), withdrawn',
    api.closeBodySchema,
  );
  action(
    '/follow-ups',
    'Record a visit or call: at (never in the future), way 电话|上门|微信|邮件|其他 (or phone, visit, wechat, email, other), note, feedback, nextStep (holder, reviewers; R31, R43)',
    api.followUpBodySchema,
    201,
  );
  registry.registerPath({
    method: 'put',
    path: '/api/registrations/{no}/grade',
    summary:
      'Change the grade A/B/C with a reason (reviewers; R42): history and audit; the next due day follows',
    security: [{ [bearer.name]: [] }],
    request: {
      params: noParam,
      body: { content: { 'application/json': { schema: api.gradeBodySchema } } },
    },
    responses: { ...recordResponse(200, api.recordResponseSchema), ...errors },
  });
  action('/transfer', 'Hand over to another member of staff (R38)', api.transferBodySchema);
  add(
    'get',
    '/api/notifications',
    "The caller's notifications, newest first, with read state and the unread count",
    {
      query: notify.notificationsQuerySchema,
      response: api.notificationsResponseSchema,
    },
  );
  add('get', '/api/reports/summary', 'Counts by status and registrant for a month (R41), expiring soon', {
    query: api.summaryQuerySchema,
    response: api.summaryResponseSchema,
  });
  add(
    'get',
    '/api/reports/service',
    'Service compliance per person for a month: visits, visits due and met by grade, lapses by rule, pool entries and claims (R31, R41–R44)',
    { query: api.summaryQuerySchema, response: api.serviceReportResponseSchema },
  );
  add(
    'get',
    '/api/pool',
    'Customers in the public pool 公海, unclaimed, longest first: name, type, region, grade, last service day, pooled since — nothing R3 hides (R44). Claim one by registering it.',
    { query: api.poolQuerySchema, response: api.poolResponseSchema },
  );
  add('get', '/api/policy', 'The policy in force');
  add(
    'put',
    '/api/policy',
    'Change the policy (admin): a preset plus overrides. Records that had lapsed by today under the policy it replaces are voided first (R31, R32, R44); the answer is the policy now in force with `lapsed`, what that voided',
    { body: api.policyBodySchema, response: api.policyPutResponseSchema },
  );
  add('post', '/api/users', 'Create a user (admin); the token is returned once', {
    body: api.userBodySchema,
    response: api.userCreatedSchema,
    status: 201,
  });
  add('get', '/api/users', 'List users (admin)');
  const userParam = z.object({ id: z.string().describe('The user’s id') });
  add('post', '/api/users/{id}/disable', 'Disable a user (admin): their token stops working at once', {
    params: userParam,
    response: api.userViewSchema,
  });
  add('post', '/api/users/{id}/enable', 'Enable a disabled user (admin)', {
    params: userParam,
    response: api.userViewSchema,
  });
  add(
    'post',
    '/api/users/{id}/rotate-token',
    'A new token for the user (admin), returned once; the old one stops working',
    {
      params: userParam,
      response: api.userCreatedSchema,
    },
  );
  add(
    'post',
    '/api/users/{id}/hand-over',
    'R38: disable a leaver and transfer all their active registrations to a colleague (admin), both notified, audited',
    { params: userParam, body: api.handOverBodySchema, response: api.handOverResponseSchema },
  );
  add('get', '/api/me', 'The caller: id, name, role, team', { response: api.meResponseSchema });
  const destructionParam = z.object({ id: z.string().describe('The destruction request’s id') });
  add('get', '/api/retention/destructions', 'R39: destruction requests, newest first (admin)', {
    response: z.object({ items: z.array(destructionSchema) }),
  });
  add(
    'post',
    '/api/retention/destructions',
    'R39: list the closed registrations past the retention period and request their destruction (admin)',
    { response: destructionSchema, status: 201 },
  );
  add(
    'post',
    '/api/retention/destructions/{id}/approve',
    'R39: a second administrator approves; the personal data of each listed record still past its retention is erased',
    { params: destructionParam, response: destructionSchema },
  );
  add('post', '/api/retention/destructions/{id}/reject', 'R39: a second administrator rejects', {
    params: destructionParam,
    body: destructionRejectBodySchema,
    response: destructionSchema,
  });
  const sheetParam = z.object({ id: z.string().describe('The sheet link’s id') });
  add(
    'get',
    '/api/sheets',
    'Issue 11: linked Google Sheets with their last sync and error (reviewer, admin)',
    {
      response: z.object({ items: z.array(sheetLinkSchema) }),
    },
  );
  // Google failing for good after the client's retries, on every route that calls Google.
  const googleErrors = {
    502: 'google.unavailable (Google answered 5xx after the retries), google.unreachable; Retry-After when Google sent one',
    503: 'google.rate_limited (Google quota spent; Retry-After), google.unauthenticated / google.forbidden (the service account key or scopes), sheets.not_configured',
  };
  add(
    'post',
    '/api/sheets',
    'Issue 11: link a Google Sheet tab; checks access, maps the header, adds the result columns, protects them (warning only) and sets validation on 客户类型 and date columns, in one spreadsheets.batchUpdate',
    {
      body: linkRequestSchema,
      response: sheetLinkResponseSchema,
      status: 201,
      moreErrors: {
        409: 'sheets.already_linked',
        404: 'google.not_found',
        ...googleErrors,
      },
    },
  );
  add('post', '/api/sheets/{id}/pause', 'Issue 11: pause a sheet link', {
    params: sheetParam,
    response: sheetLinkSchema,
    moreErrors: { 404: 'sheets.link_not_found' },
  });
  add('post', '/api/sheets/{id}/resume', 'Issue 11: resume a sheet link', {
    params: sheetParam,
    response: sheetLinkSchema,
    moreErrors: { 404: 'sheets.link_not_found' },
  });
  add(
    'post',
    '/api/sheets/{id}/sync',
    'Issue 11: sync a sheet now (dryRun=true checks without saving or writing)',
    {
      params: sheetParam,
      query: sheetSyncQuerySchema,
      response: z
        .object({
          link: z.string(),
          skipped: z.boolean(),
          registered: z.number(),
          changed: z.number().describe('Registered rows whose edited cells were applied (PATCH)'),
          refused: z.number().describe('Edited registered rows whose change was refused (已变更，未生效)'),
          invalid: z.number(),
          notRegistered: z
            .number()
            .describe(
              'Rows under the header that are no registration (example, total, note, header repeated)',
            ),
          notRegisteredRows: z
            .array(
              z.object({
                row: z.number().int(),
                skipped: z.enum(['example', 'total', 'note', 'header-repeat']),
                reason: z.object({ code: z.string(), message: z.string(), messageEn: z.string() }).loose(),
              }),
            )
            .describe(
              "Those rows with the import report's kind and reason (row.example, row.total…), where the sync's last read of the tab found them (the re-read before writing, which reads the whole tab when there are such rows); at most the first 200",
            ),
          notRegisteredTruncated: z
            .boolean()
            .describe(
              'True when notRegisteredRows lists only the first 200 of the notRegistered rows (the rest are counted, not listed, nor kept on the link)',
            ),
          hints: z
            .array(z.object({ row: z.number().int(), text: z.string() }))
            .describe('提示 texts written on those rows; in a dry run, those it would write'),
          notRegisteredAsOf: z
            .string()
            .optional()
            .describe(
              'Only when skipped (the file is unchanged since the last sync, nothing read): when the tab was last read; notRegistered and notRegisteredRows are that read’s, which the unchanged tab still holds',
            ),
          calls: z.number(),
          dryRun: z.boolean(),
        })
        .loose(),
      moreErrors: { 404: 'sheets.link_not_found', 409: 'sheets.sync_running', ...googleErrors },
    },
  );
  add('delete', '/api/sheets/{id}', 'Issue 11: unlink a sheet (the sheet itself is left as it is)', {
    params: sheetParam,
    moreErrors: { 404: 'sheets.link_not_found' },
  });
  add('get', '/api/audit', 'Audit trail of reads and changes of customer data (admin; R36)', {
    query: api.auditQuerySchema,
    response: api.auditResponseSchema,
  });
  const yearParam = z.object({ year: z.string().describe('A year, e.g. 2027') });
  add(
    'get',
    '/api/calendar/{year}',
    'The working-day schedule in force for a year and its source (R4, R12)',
    {
      params: yearParam,
      response: api.calendarViewSchema,
    },
  );
  add(
    'put',
    '/api/calendar/{year}',
    'Enter a year’s official holiday schedule (admin); 400 names the offending date; returns deadlines it would move',
    { params: yearParam, body: api.scheduleBodySchema, response: api.calendarPutResponseSchema },
  );
  registry.registerPath({
    method: 'post',
    path: '/api/imports',
    summary:
      'Upload a legacy sheet (.xlsx/.csv): the same checks as a registration, a JSON report and an annotated workbook',
    security: [{ [bearer.name]: [] }],
    request: {
      body: {
        content: {
          'multipart/form-data': {
            schema: z.object({
              file: z.string().describe('the .xlsx or .csv file (binary)'),
              mode: z.enum(['submit', 'history']).optional(),
              dryRun: z.enum(['true', 'false']).optional(),
              sheet: z.string().optional(),
            }),
          },
        },
      },
    },
    responses: {
      201: json(api.importResponseSchema, 'Import report (200 for a dry run)'),
      413: json(api.errorResponseSchema, 'File over the upload limit'),
      ...errors,
    },
  });
  add('get', '/api/imports/{id}', 'An import report (uploader and admins)', {
    params: z.object({ id: z.string() }),
    response: api.importResponseSchema,
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/imports/{id}',
    summary: 'Delete an import’s kept report and annotated workbook now (uploader and admins; audited)',
    security: [{ [bearer.name]: [] }],
    request: { params: z.object({ id: z.string() }) },
    responses: { 204: { description: 'Deleted' }, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/imports/{id}/annotated.xlsx',
    summary: 'The annotated workbook of an import (uploader and admins)',
    security: [{ [bearer.name]: [] }],
    request: { params: z.object({ id: z.string() }) },
    responses: {
      200: {
        description: 'xlsx',
        content: {
          'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: z.string() },
        },
      },
      ...errors,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/admin/backup',
    summary:
      'An encrypted, consistent backup of the whole store (admin; R35): BAOBEI_BACKUP_KEY, docs/operations.md',
    security: [{ [bearer.name]: [] }],
    responses: {
      200: {
        description: 'The backup file (header line, then AES-256-GCM frames)',
        content: { 'application/octet-stream': { schema: z.string() } },
      },
      503: json(api.errorResponseSchema, 'No backup key configured (code backup.not_configured)'),
      ...errors,
    },
  });
  // Notifications (issue 10): read state, the outbox, robots, contacts, preferences, defaults.
  const notFound = (what: string) => ({ 404: json(api.errorResponseSchema, what) });
  const secured = { security: [{ [bearer.name]: [] }] };
  const bodyOf = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
  const robotParam = z.object({
    id: z.string().describe('The robot’s id: lower-case letters, digits and -'),
  });
  add(
    'post',
    '/api/notifications/read',
    'Mark the caller’s notifications read: {ids: [...]} or {all: true}',
    {
      body: notify.markReadBodySchema,
      response: notify.markReadResponseSchema,
    },
  );
  add(
    'get',
    '/api/outbox',
    'The outbox (admin): entries newest first with status, channel, recipient id, event and attempts — no addresses, mobiles or message text',
    { query: notify.outboxQuerySchema, response: notify.outboxResponseSchema },
  );
  registry.registerPath({
    method: 'post',
    path: '/api/outbox/test',
    summary:
      'Send a test message (admin) to a robot {robot: id} or to a user’s email {email: userId}; the provider’s answer',
    ...secured,
    request: { body: bodyOf(notify.outboxTestBodySchema) },
    responses: {
      200: json(notify.deliveryResultSchema, 'Delivered'),
      ...errors,
      ...notFound('notify.robot_not_found or user.not_found'),
      422: json(api.errorResponseSchema, 'notify.email_off (no SMTP) or notify.no_address'),
      429: json(api.errorResponseSchema, 'notify.robot_busy: the robot’s provider window is full'),
      502: json(notify.deliveryResultSchema, 'The provider refused or could not be reached'),
    },
  });
  add('get', '/api/notify/robots', 'Team robots (admin); webhook tokens masked, secrets never returned', {
    response: z.object({ items: z.array(notify.redactedRobotSchema) }),
  });
  add(
    'put',
    '/api/notify/robots/{id}',
    'Create or replace a team robot (admin): DingTalk/Feishu need their signing secret; audited',
    { params: robotParam, body: notify.robotBodySchema, response: notify.redactedRobotSchema },
  );
  registry.registerPath({
    method: 'delete',
    path: '/api/notify/robots/{id}',
    summary: 'Remove a team robot (admin); audited',
    ...secured,
    request: { params: robotParam },
    responses: { 204: { description: 'Removed' }, ...errors, ...notFound('notify.robot_not_found') },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/users/{id}/contact',
    summary: 'A user’s notification contact (admin): email, mobile, Feishu id, language',
    ...secured,
    request: { params: userParam },
    responses: { 200: json(contactSchema), ...errors, ...notFound('user.not_found') },
  });
  registry.registerPath({
    method: 'put',
    path: '/api/users/{id}/contact',
    summary: 'Set a user’s notification contact (admin); audited by field names, never values',
    ...secured,
    request: { params: userParam, body: bodyOf(contactSchema.strict()) },
    responses: { 200: json(contactSchema), ...errors, ...notFound('user.not_found') },
  });
  add(
    'get',
    '/api/notify/preferences',
    'The caller’s preferences (per channel and event: immediate, digest, off) and the defaults',
    { response: notify.preferencesResponseSchema },
  );
  add('put', '/api/notify/preferences', 'Set the caller’s own preferences', {
    body: preferencesSchema.strict(),
    response: preferencesSchema,
  });
  add('get', '/api/notify/defaults', 'The administrators’ defaults per channel and event', {
    response: notifyDefaultsSchema,
  });
  add('put', '/api/notify/defaults', 'Set the defaults per channel and event (admin); audited', {
    body: notifyDefaultsSchema.strict(),
    response: notifyDefaultsSchema,
  });
  const generator = new OpenApiGeneratorV31(registry.definitions);
  return generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Baobei 报备 API',
      version,
      description: '客户报备与保护期服务 — customer registration and protection',
    },
    servers: [{ url: '/' }],
  });
}

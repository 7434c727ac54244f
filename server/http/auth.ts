/**
 * Bearer-token authentication: every /api route but health and the OpenAPI document needs a
 * token; the user it belongs to becomes the request's actor. It runs before any body is read, so
 * an unauthenticated request costs a hash and a look-up, never a parse. Failed authentications
 * are counted per client address (express-rate-limit, keyed by `req.ip`, which the trust-proxy
 * setting decides); an address over the limit gets 429 before its token is even looked at, so
 * guessing tokens is limited too.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type Logger as RateLimitLogger } from 'express-rate-limit';
import { DomainError, problem, type Problem } from '../../core/problem.js';
import { actorOf, type Actor } from '../services/actor.js';
import { userForToken } from '../services/userService.js';
import type { Store } from '../store/store.js';
import { errorBody } from './errors.js';

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}

/** The window failed authentications are counted in. */
export const AUTH_FAILURE_WINDOW_MS = 60_000;

export interface AuthenticateOptions {
  /** Failed authentications per client address per minute; the next one gets 429. */
  failuresPerMinute?: number;
  /** Where express-rate-limit's configuration warnings go (e.g. X-Forwarded-For without trust proxy). */
  logger?: RateLimitLogger;
}

/** The rate-limit key of the client's address (an IPv6 client counts per /56, as express-rate-limit advises). */
export function clientAddressKey(req: Request): string {
  return `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? '')}`;
}

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}

export function authenticate(store: Store, options: AuthenticateOptions = {}): RequestHandler {
  const limit = options.failuresPerMinute ?? 20;
  // Counts one hit per failed authentication; a hit past the limit is answered with 429.
  const failures = rateLimit({
    windowMs: AUTH_FAILURE_WINDOW_MS,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: clientAddressKey,
    ...(options.logger ? { logger: options.logger } : {}),
    handler: (req, res) => {
      res
        .status(429)
        .json(
          errorBody(
            problem(
              'auth.rate_limited',
              '认证失败次数过多，请稍后再试（检查令牌是否正确）',
              'Too many failed authentications from this address; check the token and try again later',
            ),
            String(req.id),
          ),
        );
    },
  });
  const fail = (req: Request, res: Response, next: NextFunction, p: Problem) =>
    failures(req, res, () => next(new DomainError(p)));

  return async (req: Request, res: Response, next: NextFunction) => {
    const seen = await failures.getKey(clientAddressKey(req));
    if (seen !== undefined && seen.totalHits >= limit) {
      // Over the limit: refused (and counted) without looking at the token.
      fail(req, res, next, invalidToken);
      return;
    }
    const token = bearerToken(req);
    if (token === undefined) {
      fail(req, res, next, missingToken);
      return;
    }
    const user = await userForToken(store, token);
    if (!user) {
      fail(req, res, next, invalidToken);
      return;
    }
    req.actor = actorOf(user, typeof req.id === 'string' ? req.id : String(req.id));
    next();
  };
}

const missingToken = problem(
  'auth.missing',
  '缺少访问令牌（Authorization: Bearer …）',
  'Missing bearer token (Authorization: Bearer …)',
);
const invalidToken = problem('auth.invalid', '访问令牌无效或已停用', 'The token is invalid or disabled');

/** The authenticated actor; routes behind `authenticate` always have one. */
export function actor(req: Request): Actor {
  if (!req.actor) throw new DomainError(problem('auth.missing', '未登录', 'Not authenticated'));
  return req.actor;
}

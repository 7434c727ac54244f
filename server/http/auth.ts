/**
 * Bearer-token authentication: every /api route but health and the OpenAPI document needs a
 * token; the user it belongs to becomes the request's actor.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { DomainError, problem } from '../../core/problem.js';
import { actorOf, type Actor } from '../services/actor.js';
import { userForToken } from '../services/userService.js';
import type { Store } from '../store/store.js';

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}

export function authenticate(store: Store): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    if (token === undefined) {
      throw new DomainError(
        problem(
          'auth.missing',
          '缺少访问令牌（Authorization: Bearer …）',
          'Missing bearer token (Authorization: Bearer …)',
        ),
      );
    }
    const user = await userForToken(store, token);
    if (!user) {
      throw new DomainError(
        problem('auth.invalid', '访问令牌无效或已停用', 'The token is invalid or disabled'),
      );
    }
    req.actor = actorOf(user, typeof req.id === 'string' ? req.id : String(req.id));
    next();
  };
}

/** The authenticated actor; routes behind `authenticate` always have one. */
export function actor(req: Request): Actor {
  if (!req.actor) throw new DomainError(problem('auth.missing', '未登录', 'Not authenticated'));
  return req.actor;
}

/**
 * A ceiling on expensive operations running at once (imports, large check/submit batches): each
 * holds a slot until its response is closed; when every slot is taken the request is refused at
 * once with 503 `service.busy` and Retry-After, rather than queued behind the others while
 * holding its body in memory. Per process: each instance of a multi-instance deployment has its own.
 */
import type { Request, RequestHandler, Response } from 'express';
import { problem } from '../../core/problem.js';
import { errorBody } from './errors.js';

/** What a refused caller is told to wait before retrying. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

export class ExpensiveOperations {
  private running = 0;

  constructor(readonly capacity: number) {}

  get inProgress(): number {
    return this.running;
  }

  /** Takes a slot; returns its release function, or undefined when every slot is taken. */
  tryAcquire(): (() => void) | undefined {
    if (this.running >= this.capacity) return undefined;
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
    };
  }

  /**
   * Middleware: when `isExpensive(req)`, takes a slot for the life of the response (released
   * when it closes — sent, failed or aborted by the client) or answers 503.
   */
  gate(isExpensive: (req: Request) => boolean): RequestHandler {
    return (req: Request, res: Response, next) => {
      if (!isExpensive(req)) {
        next();
        return;
      }
      const release = this.tryAcquire();
      if (!release) {
        res
          .status(503)
          .set('Retry-After', String(BUSY_RETRY_AFTER_SECONDS))
          .json(
            errorBody(
              problem(
                'service.busy',
                `服务正忙：已有 ${this.capacity} 个导入或大批量请求在处理，请 ${BUSY_RETRY_AFTER_SECONDS} 秒后重试`,
                `The service is busy: ${this.capacity} imports or large batches are already running; retry in ${BUSY_RETRY_AFTER_SECONDS} s`,
              ),
              String(req.id),
            ),
          );
        return;
      }
      res.once('close', release);
      next();
    };
  }
}

/** The number of rows in a parsed check/submit body, without trusting its shape (zod parses it later). */
export function batchRows(body: unknown): number {
  const rows = (body as { rows?: unknown } | undefined)?.rows;
  return Array.isArray(rows) ? rows.length : 0;
}

/**
 * Expected failures: one shape for a problem with a row, a field or a request, and one error type
 * that carries it. Codes are stable (tests, docs and the add-in key on them); messages come in
 * zh-CN (the users' language) and English.
 */

export interface Problem {
  /** Stable, dotted: `phone.invalid`, `creditCode.checksum`, `registration.banned`. */
  code: string;
  /** zh-CN message, shown to users. */
  message: string;
  /** English message. */
  messageEn: string;
  /** The canonical field (or request field path) the problem concerns, when there is one. */
  field?: string;
  /** Machine data a client may act on (the day a cooldown ends, a cap and the count). */
  details?: Record<string, unknown>;
}

export function problem(code: string, message: string, messageEn: string, field?: string): Problem {
  return field === undefined ? { code, message, messageEn } : { code, message, messageEn, field };
}

/** Thrown for expected failures; the HTTP layer maps `code` to a status. */
export class DomainError extends Error {
  readonly code: string;
  readonly messageEn: string;
  readonly field: string | undefined;
  /** Extra machine-readable detail (e.g. the until-date of a ban). */
  readonly details: Record<string, unknown> | undefined;

  constructor(p: Problem, details?: Record<string, unknown>) {
    super(p.message);
    this.name = 'DomainError';
    this.code = p.code;
    this.messageEn = p.messageEn;
    this.field = p.field;
    this.details = details;
  }

  toProblem(): Problem {
    return problem(this.code, this.message, this.messageEn, this.field);
  }
}

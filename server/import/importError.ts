/** An import that cannot go on because of its input (exit code 2 in the CLI, 4xx over HTTP). */
import { DomainError, problem } from '../../core/problem.js';

export class ImportError extends DomainError {
  constructor(code: string, message: string, messageEn: string, field?: string) {
    super(problem(code, message, messageEn, field));
    this.name = 'ImportError';
  }
}

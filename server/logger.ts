/**
 * Structured logs (pino). Customer personal data never reaches a log: request bodies are not
 * logged, URLs are logged without their query string (a search `q=` may hold a customer name),
 * and the Authorization header is redacted.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'token', '*.token'],
      censor: '[redacted]',
    },
    base: { service: 'baobei' },
  };
  return destination ? pino(options, destination as never) : pino(options);
}

/**
 * Structured logs (pino). Customer personal data never reaches a log: request bodies are not
 * logged, URLs are logged without their query string (a search `q=` may hold a customer name),
 * and the Authorization header is redacted, as are notification secrets (robot secrets and webhook
 * URLs, SMTP passwords) should a settings object ever reach a log call.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { SECRET_LOG_PATHS } from './notify/channelSettings.js';

export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'token', '*.token', ...SECRET_LOG_PATHS],
      censor: '[redacted]',
    },
    base: { service: 'baobei' },
  };
  return destination ? pino(options, destination as never) : pino(options);
}

/**
 * One JSON POST to a robot webhook, with a deadline, turned into either the provider's answer or a
 * classified failure. Error texts never carry the URL: it holds the robot's token or key.
 */
import { failure, type DeliveryFailure } from './channel.js';

/** Robots answer in well under a second; a hung connection must not hold the outbox worker. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Providers answer with a few dozen bytes of JSON; more is not a robot answering. */
const MAX_ANSWER_BYTES = 64 * 1024;

export const DEDUPE_HEADER = 'X-Baobei-Dedupe-Key';

export interface WebhookAnswer {
  status: number;
  /** The parsed JSON body (undefined when the body was not JSON). */
  body: unknown;
}

export async function postJson(
  url: string,
  payload: unknown,
  options: { timeoutMs?: number; dedupeKey?: string } = {},
): Promise<WebhookAnswer | DeliveryFailure> {
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        ...(options.dedupeKey !== undefined ? { [DEDUPE_HEADER]: options.dedupeKey } : {}),
      },
      body: JSON.stringify(payload),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // The request may or may not have reached the provider: retrying can duplicate, losing cannot be undone.
    if (err instanceof DOMException && err.name === 'TimeoutError') {
      return failure(true, `no answer within ${timeoutMs} ms`, 'timeout');
    }
    const code = networkCode(err);
    return failure(true, `network error${code ? ` (${code})` : ''}`, code);
  }
  const text = await readCapped(response);
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.status === 429 || response.status >= 500) {
    return failure(true, `HTTP ${response.status}`, response.status);
  }
  return { status: response.status, body };
}

/** A non-2xx answer that is neither throttling nor a server error: the request itself is wrong. */
export function httpFailure(answer: WebhookAnswer): DeliveryFailure {
  const code = answerField(answer, 'errcode') ?? answerField(answer, 'code');
  return failure(
    false,
    `HTTP ${answer.status}`,
    typeof code === 'number' && code !== 0 ? code : answer.status,
  );
}

function networkCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      break;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function isAnswer(x: WebhookAnswer | DeliveryFailure): x is WebhookAnswer {
  return !('ok' in x);
}

/** A field of the provider's JSON answer. */
export function answerField(answer: WebhookAnswer, name: string): unknown {
  return typeof answer.body === 'object' && answer.body !== null
    ? (answer.body as Record<string, unknown>)[name]
    : undefined;
}

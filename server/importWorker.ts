/**
 * The worker an HTTP import's file is read and annotated in (started by importIsolation.ts): the
 * parsing of untrusted bytes runs here, under a heap cap and a wall-time limit, so a file that
 * slips past every parser limit costs this worker, never the service. The checks against the store
 * stay in the service; this side only reads the file and writes the annotated copy.
 */
import { parentPort } from 'node:worker_threads';
import { DomainError } from '../core/problem.js';
import {
  parseImport,
  type AnnotationRequest,
  type ParsedImport,
  type ParsedSubmission,
  type ReadImport,
} from './import/importSheet.js';

export type WorkerRequest =
  | {
      type: 'parse';
      bytes: Uint8Array;
      options: { fileName: string; mode: 'submit' | 'history'; sheet?: string | undefined };
      now: string;
    }
  | { type: 'rows'; start: number; count: number }
  | { type: 'annotate'; request: AnnotationRequest };

export type WorkerReply =
  | { type: 'parsed'; parsed: Omit<ParsedImport, 'submissions'>; rows: number }
  | { type: 'rows'; submissions: ParsedSubmission[] }
  | { type: 'annotated'; bytes: Uint8Array }
  | {
      type: 'failed';
      /** A refusal of the input (coded, bilingual), or an unexpected failure (`code` absent). */
      problem?: { code: string; message: string; messageEn: string; field?: string };
      details?: Record<string, unknown>;
      error?: string;
    };

const port = parentPort;
if (!port) throw new Error('importWorker runs as a worker thread');

/** The parsed rows not yet handed to the service, which asks for them a chunk at a time. */
let rows: ParsedSubmission[] | undefined;
/** What the annotation needs of the parsed file; the parsed rows themselves are the service's. */
let annotate: ReadImport['annotate'] | undefined;

port.on('message', (message: WorkerRequest) => {
  try {
    if (message.type === 'parse') {
      const { parsed, annotate: annotation } = parseImport(
        message.bytes,
        message.options,
        new Date(message.now),
      );
      const { submissions, ...rest } = parsed;
      rows = submissions;
      annotate = annotation;
      port.postMessage({ type: 'parsed', parsed: rest, rows: submissions.length } satisfies WorkerReply);
      return;
    }
    if (message.type === 'rows') {
      if (!rows) throw new Error('rows before parse');
      const end = message.start + message.count;
      const submissions = rows.slice(message.start, end);
      // Once all are handed over, this heap keeps no second copy of them while the service checks them.
      if (end >= rows.length) rows = undefined;
      port.postMessage({ type: 'rows', submissions } satisfies WorkerReply);
      return;
    }
    if (!annotate) throw new Error('annotate before parse');
    const bytes = annotate(message.request);
    annotate = undefined;
    // Copied, not transferred: a small Buffer may share Node's pool, which cannot be transferred.
    port.postMessage({ type: 'annotated', bytes } satisfies WorkerReply);
  } catch (err) {
    port.postMessage(failure(err));
  }
});

function failure(err: unknown): WorkerReply {
  if (err instanceof DomainError) {
    return {
      type: 'failed',
      problem: {
        code: err.code,
        message: err.message,
        messageEn: err.messageEn,
        ...(err.field !== undefined ? { field: err.field } : {}),
      },
      ...(err.details ? { details: err.details } : {}),
    };
  }
  return { type: 'failed', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

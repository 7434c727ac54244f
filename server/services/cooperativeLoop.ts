/**
 * Long per-row loops give way to the event loop, so that one 5,000-row batch does not hold every
 * other request (health checks, single registrations) until it ends. A loop calls `pause()` once
 * per row; after a slice of work (10 ms by default) it waits for one turn of the event loop
 * (`setImmediate`: pending I/O — new connections, other requests — runs first), and otherwise
 * returns at once, so short batches pay nothing but a clock read per row.
 */
import { performance } from 'node:perf_hooks';

/** How long a loop may run before it lets other work in. */
export const DEFAULT_SLICE_MS = 10;

export type Pause = () => Promise<void> | undefined;

/** A pause function for one loop: call it once per iteration and await what it returns. */
export function cooperativeLoop(sliceMs: number = DEFAULT_SLICE_MS): Pause {
  let sliceStart = performance.now();
  return () => {
    if (performance.now() - sliceStart < sliceMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        sliceStart = performance.now();
        resolve();
      }),
    );
  };
}

/**
 * What a bench prints beside its figures so they can be compared: the machine and its load, and
 * numbers grouped the English way.
 */
import os from 'node:os';

/** `n` with thousands separators and exactly `d` decimals. */
export const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** CPU model and count, memory, Node and the load average (1, 5, 15 minutes). */
export function machine(): string {
  const cpus = os.cpus();
  return (
    `${cpus[0]?.model ?? 'cpu'} × ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `node ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`
  );
}

/**
 * Instants the tests set their clocks to, written as Shanghai wall-clock time: the days the
 * protection rules count are Shanghai's (UTC+8 all year, no daylight saving).
 */

/** `day` at `time` (HH:MM, default 10:00) in Shanghai, as an ISO instant. */
export function at(day: string, time = '10:00'): string {
  return new Date(`${day}T${time}:00+08:00`).toISOString();
}

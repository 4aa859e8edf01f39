/**
 * Usage is kept per UTC day, `YYYY-MM-DD` (usage_daily.day), and the API_CALLS
 * quota per UTC month. These helpers are the one place that turns a clock into
 * those days.
 */

const DAY_MS = 86_400_000;

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Midnight UTC of a `YYYY-MM-DD` day, as the Date scalar and Prisma's DATE columns have it. */
export function dayDate(day: string): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

/** The first day of the UTC month of `ms`, and of `months` months later (negative: earlier). */
export function monthStart(ms: number, months = 0): Date {
  const date = new Date(ms);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
}

/** The last day of the UTC month of `ms` (and of `months` later). */
export function monthEnd(ms: number, months = 0): Date {
  return new Date(monthStart(ms, months + 1).getTime() - DAY_MS);
}

/** Days from `from` to `to`, both counted: 1 for a single day. */
export function daysInclusive(from: Date, to: Date): number {
  return Math.round((to.getTime() - from.getTime()) / DAY_MS) + 1;
}

/**
 * The UTC day of "now", recomputed only when the clock passes midnight.
 * PERF: the recorder asks on every request; formatting a date each time would
 * cost more than the rest of the bookkeeping.
 */
export function dayClock(now: () => number): () => string {
  let day = '';
  let nextMidnight = -Infinity;
  return () => {
    const ms = now();
    if (ms >= nextMidnight || ms < nextMidnight - DAY_MS) {
      day = utcDay(ms);
      nextMidnight = dayDate(day).getTime() + DAY_MS;
    }
    return day;
  };
}

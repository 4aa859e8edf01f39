import { monthEnd, monthStart } from './days';

/**
 * The period of a usage report: a preset month or a range of days, inclusive,
 * in UTC (the days of usage_daily).
 */

export type UsagePreset = 'CURRENT_MONTH' | 'LAST_MONTH';

/** Days at midnight UTC, both included. */
export interface DayRange {
  from: Date;
  to: Date;
}

/** The GraphQL input `UsagePeriod @oneOf { preset, range }`: exactly one is set. */
export interface UsagePeriodInput {
  preset?: UsagePreset | null;
  range?: DayRange | null;
}

/** The longest range a report covers, in days. */
export const MAX_PERIOD_DAYS = 366;

/**
 * The days of the period. A preset month is the whole month, its first day to
 * its last, also for the current month (whose later days have no usage yet).
 */
export function resolvePeriod(period: UsagePeriodInput, now: number): DayRange {
  if (period.range) return period.range;
  const months = period.preset === 'LAST_MONTH' ? -1 : 0;
  return { from: monthStart(now, months), to: monthEnd(now, months) };
}

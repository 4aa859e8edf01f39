/**
 * Billing periods: calendar months in UTC, like usage_daily.day. An invoice
 * covers one month and is stored with the month's first day (invoices.period).
 * The day arithmetic is usage's (src/usage/days.ts), so invoices and usage agree.
 */

import { monthStart, utcDay } from '../usage/days';

export interface BillingPeriod {
  /** `2026-10` */
  label: string;
  /** The month's first day, 00:00 UTC. */
  start: Date;
  /** The next month's first day: the period is [start, end). */
  end: Date;
}

/** Days between an invoice's issue and its due date. */
export const PAYMENT_TERMS_DAYS = 15;

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const DAY_MS = 86_400_000;

function periodStarting(year: number, monthIndex: number): BillingPeriod {
  const start = Date.UTC(year, monthIndex, 1);
  return { label: utcDay(start).slice(0, 7), start: monthStart(start), end: monthStart(start, 1) };
}

/** The month before the one `now` falls in: what a monthly run invoices. */
export function previousPeriod(now: Date): BillingPeriod {
  return periodStarting(now.getUTCFullYear(), now.getUTCMonth() - 1);
}

/** The period of an invoices.period value (a DATE, read as 00:00 UTC). */
export function periodOf(day: Date): BillingPeriod {
  return periodStarting(day.getUTCFullYear(), day.getUTCMonth());
}

/** A month that may be invoiced: `YYYY-MM`, and over by `now` (a month is billed once, so never before it ends). */
export function parsePeriod(text: string, now: Date): BillingPeriod {
  const match = MONTH.exec(text.trim());
  if (!match) throw new RangeError(`must be a month as YYYY-MM, e.g. ${previousPeriod(now).label}; got ${JSON.stringify(text)}`);
  const period = periodStarting(Number(match[1]), Number(match[2]) - 1);
  if (period.end > now) throw new RangeError(`${period.label} has not ended yet: it can be invoiced from ${isoDate(period.end)}`);
  return period;
}

/** `2026-11-16`: the UTC date of an instant, or a DATE column's value. */
export function isoDate(day: Date): string {
  return utcDay(day.getTime());
}

/** The due date of an invoice issued at `issuedAt`: its UTC date plus the payment terms. */
export function dueDateFor(issuedAt: Date): Date {
  return new Date(Date.parse(isoDate(issuedAt)) + PAYMENT_TERMS_DAYS * DAY_MS);
}

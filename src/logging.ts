import { inspect } from 'node:util';
import type { YogaLogger } from 'graphql-yoga';

/**
 * The gateway's logger: Yoga's levels, each argument written as one escaped,
 * bounded line.
 *
 * SECURITY: errors carry user text (a decoded id, a name, a header), and a
 * log line is read in terminals and parsed by collectors. Control characters
 * (newlines, terminal escape sequences) are written as `\n`, `\x1b`, …, so one
 * request cannot forge log lines or drive the reader's terminal, and each
 * argument is cut at MAX_ARGUMENT_CHARS, so one request cannot write megabytes
 * of log (a 1.3 MB node(id) once wrote 20 MB).
 */

/** Longest text written per argument (an error's stack included). */
export const MAX_ARGUMENT_CHARS = 4000;

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators; tab stays readable as \t.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** `text` with its control characters written as escapes, cut at `max` characters. */
export function escapeLogText(text: string, max = MAX_ARGUMENT_CHARS): string {
  const cut = text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
  return cut.replace(CONTROL, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

function format(value: unknown): string {
  if (typeof value === 'string') return escapeLogText(value);
  if (value instanceof Error) {
    // The stack starts with "Name: message": the message is written once, escaped with the rest.
    // A stack line break stays a line break: escaped, the frames still read one per `\n`.
    return escapeLogText(value.stack ?? `${value.name}: ${value.message}`);
  }
  // Objects as inspect prints them, on one line, bounded before escaping.
  return escapeLogText(inspect(value, { depth: 4, breakLength: Infinity, maxStringLength: MAX_ARGUMENT_CHARS }));
}

export function createSafeLogger(write: Pick<Console, 'debug' | 'info' | 'warn' | 'error'> = console, level: 'debug' | 'info' = 'info'): YogaLogger {
  const line = (method: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => write[method](args.map(format).join(' '));
  return {
    debug: level === 'debug' ? line('debug') : () => undefined,
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
  };
}

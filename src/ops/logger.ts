import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat, LogLevel } from '../config';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** @default process.stdout */
  destination?: NodeJS.WritableStream;
}

/**
 * pino: one JSON object a line in production; in a terminal, pino-pretty's
 * lines, coloured only when the output is a terminal (a file gets no escape
 * codes).
 */
export function createLogger({ level, format, destination = process.stdout }: LoggerOptions): Logger {
  const options = {
    level,
    base: { service: 'tenantgate' },
    // SECURITY: if a caller ever logs a header bag or a config object, these never reach the log.
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'token', '*.token', 'password', '*.password', 'secret', '*.secret', 'variables'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (format === 'json') return pino(options, destination as pino.DestinationStream);
  const colorize = (destination as { isTTY?: boolean }).isTTY === true;
  return pino(options, pretty({ colorize, destination, sync: true, ignore: 'pid,hostname,service', singleLine: true, translateTime: 'SYS:HH:MM:ss.l' }));
}

/** A logger that writes nothing (tests, scripts). */
export const silentLogger = (): Logger => pino({ level: 'silent' });

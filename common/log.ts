/**
 * One JSON line per event on stdout. Fields are our own values (names,
 * classes, statuses, durations); request and response bodies, headers and
 * keys are never logged. A Secret that slips into a field prints as
 * "[redacted]" (secret.ts).
 */
import type { LogLevel } from '../api/v1alpha1/enums.ts';

export type { LogLevel } from '../api/v1alpha1/enums.ts';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  level: LogLevel;
  enabled(level: LogLevel): boolean;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && v in RANK;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l), component = 'sidecar'): Logger {
  const logger: Logger = {
    level,
    enabled: (l) => RANK[l] >= RANK[logger.level],
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
  function emit(l: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[l] < RANK[logger.level]) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level: l, component, msg, ...fields });
    } catch {
      line = JSON.stringify({ time: new Date().toISOString(), level: l, component, msg });
    }
    write(line + '\n');
  }
  return logger;
}

/** Writes nothing: the default where a logger is optional. */
export const silentLogger: Logger = createLogger('error', () => {});

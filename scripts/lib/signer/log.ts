/**
 * The signer's log: one JSON object per line on stderr, so journald and `kubectl logs` keep each
 * event whole. Callers pass only safe fields: codes, kids, counts, durations. Never claims,
 * signatures or key material.
 */

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A structured logger. `fields` must be JSON-serialisable and free of secrets. */
export interface SignerLog {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A logger that writes one JSON line per event to `write` (stderr by default), dropping events
 * below `minLevel`.
 */
export function jsonLog(
  options: { minLevel?: LogLevel; write?: (line: string) => void; now?: () => Date } = {},
): SignerLog {
  const min = ORDER[options.minLevel ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  return {
    log(level, msg, fields) {
      if (ORDER[level] < min) return;
      write(`${JSON.stringify({ time: now().toISOString(), level, component: 'signer', msg, ...fields })}\n`);
    },
  };
}

/** A logger that keeps events in memory, for tests. */
export function memoryLog(): SignerLog & {
  events: Array<{ level: LogLevel; msg: string; fields: Record<string, unknown> }>;
} {
  const events: Array<{ level: LogLevel; msg: string; fields: Record<string, unknown> }> = [];
  return {
    events,
    log(level, msg, fields) {
      events.push({ level, msg, fields: fields ?? {} });
    },
  };
}

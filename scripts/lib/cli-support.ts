/**
 * Shared plumbing for CLI commands: one way to report errors, print data and exit.
 */
import { errorClassOf, formatError, IrsaError } from '#core/errors.ts';

/** Exit codes: 0 ok, 1 a check or operation failed, 2 bad usage or bad input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Where commands write. Injected so tests can capture output. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** The process's stdout and stderr. */
export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Thrown by a command to exit with a given code after it has printed its own report. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/**
 * Runs a command body and maps failures to a one-line message and an exit code, so every command
 * fails the same way: `error <CODE>: <what> — <fix>` on stderr.
 */
export async function runCommand(io: Io, body: () => Promise<void> | void): Promise<number> {
  try {
    await body();
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ExitCode) return error.code;
    io.err(`error ${formatError(error)}`);
    return errorClassOf(error).exit;
  }
}

/** Prints a value as pretty JSON. */
export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** Parses an integer flag, failing with the flag's name. */
export function parseIntFlag(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new IrsaError(
      'FLAG_INVALID',
      `${flag} must be a whole number from ${min} to ${max}, got "${value}".`,
      `Pass ${flag} <${min}-${max}>.`,
    );
  }
  return n;
}

/** Parses an ISO 8601 time flag, failing with the flag's name. */
export function parseTimeFlag(flag: string, value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `${flag} must be an ISO 8601 time, got "${value}".`,
      `Pass ${flag} 2026-01-31T12:00:00Z.`,
    );
  }
  return date;
}

/**
 * Resolves with the signal when the process is asked to stop (SIGINT or SIGTERM). Both listeners
 * are removed on the first one, so a second signal gets Node's default handling.
 */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}

/**
 * Waits for SIGINT or SIGTERM, then runs `close`; resolves once it settled (a failing close is
 * ignored: the process is going away either way).
 */
export async function waitForShutdown(close: () => Promise<void>): Promise<void> {
  await shutdownSignal();
  await close().catch(() => undefined);
}

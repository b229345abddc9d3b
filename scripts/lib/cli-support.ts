/**
 * Shared plumbing for CLI commands: one way to report errors, print data and exit.
 */
import type { Command } from 'commander';
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

/**
 * A command module's entry point: adds its subcommand to the program. Lives here, not in cli.ts,
 * so commands and the program that loads them do not import each other.
 */
export type Register = (program: Command, io: Io, setExit: (code: number) => void) => void;

/** Thrown by a command to exit with a given code after it has printed its own report. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** What a failed command prints on stdout with `--json`. */
export interface JsonFailure {
  ok: false;
  code: string;
  message: string;
  fix: string;
}

/** The `--json` failure object for an error (`UNEXPECTED` for one without a registered code). */
export function jsonFailure(error: unknown): JsonFailure {
  if (error instanceof IrsaError) {
    return { ok: false, code: error.code, message: error.message, fix: error.fix };
  }
  return {
    ok: false,
    code: 'UNEXPECTED',
    message: error instanceof Error ? error.message : String(error),
    fix: 'This is a bug or an unhandled environment problem; report it with the command and its output.',
  };
}

/**
 * Runs a command body and maps failures to a one-line message and an exit code, so every command
 * fails the same way: `error <CODE>: <what> — <fix>` on stderr, the exit class from the error-code
 * registry, and with `--json` (`options.json`) also `{"ok": false, "code", "message", "fix"}` on
 * stdout so a script reading stdout always gets JSON.
 */
export async function runCommand(
  io: Io,
  body: () => Promise<void> | void,
  options: { json?: boolean | undefined } = {},
): Promise<number> {
  try {
    await body();
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ExitCode) return error.code;
    io.err(`error ${formatError(error)}`);
    if (options.json === true) printJson(io, jsonFailure(error));
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

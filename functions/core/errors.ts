/**
 * One error type for the whole project. Every failure a user can meet carries a stable `code`
 * (for scripts, tests and metrics) and a `fix`: one sentence that says what to do about it.
 * The CLI prints `error <code>: <message> — <fix>` and exits with the code's exit class; Lambdas log
 * it and rethrow. Codes come from the registry in error-codes.ts, never built at run time.
 */
import { ERROR_CODES, type ErrorClass, type ErrorCode } from './error-codes.ts';

export type { ErrorCode } from './error-codes.ts';
export class IrsaError extends Error {
  override readonly name = 'IrsaError';
  /** Stable machine-readable code, e.g. `ISSUER_TRAILING_SLASH`, `TOKEN_KID_UNKNOWN`. */
  readonly code: ErrorCode;
  /** What the user can do about it, as one sentence. */
  readonly fix: string;
  /** Optional structured detail, safe to log (never key material). */
  readonly detail?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    fix: string,
    options?: { cause?: unknown; detail?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fix = fix;
    if (options?.detail !== undefined) this.detail = options.detail;
  }
}

/** True when `error` is an {@link IrsaError}, optionally with the given code. */
export function isIrsaError(error: unknown, code?: ErrorCode): error is IrsaError {
  return error instanceof IrsaError && (code === undefined || error.code === code);
}

/** One line for a terminal or a log: `<code>: <message> — <fix>`. */
export function formatError(error: unknown): string {
  if (error instanceof IrsaError) return `${error.code}: ${error.message} — ${error.fix}`;
  if (error instanceof Error) return `UNEXPECTED: ${error.message}`;
  return `UNEXPECTED: ${String(error)}`;
}

/** The registry entry (exit class, gRPC status) of an error; unknown errors are failures (exit 1). */
export function errorClassOf(error: unknown): ErrorClass {
  return error instanceof IrsaError ? ERROR_CODES[error.code] : { exit: 1, grpc: 'INTERNAL' };
}

/**
 * The one error middleware of the Lambdas (rotate and bootstrap): a failed invocation is logged
 * once, structured (the `IrsaError` code, fix and detail; `UNEXPECTED` for anything else), and an
 * optional hook counts it (rotate's `RotationError` metric). It never sets a response, so middy
 * rethrows the error (rotate: the Lambda `Errors` metric and the alarm fire) unless a later
 * `onError` answers it (bootstrap: CloudFormation gets FAILED).
 *
 * Use it last: middy runs `onError` middlewares in reverse order, so this one runs first and a
 * metric it adds is flushed by Powertools' `logMetrics`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import { isIrsaError } from '#core/errors.ts';

/** Options of {@link logErrors}. */
export interface LogErrorsOptions {
  logger: Logger;
  /** The log message, e.g. "rotation failed". */
  message: string;
  /** Called once per failed invocation, after the log line (e.g. to count it). */
  onFailure?: (error: unknown) => void;
}

/** The middleware: `{ onError }`, middy's shape. */
export function logErrors(options: LogErrorsOptions): MiddlewareObj {
  return {
    onError: (request) => {
      const { error } = request;
      if (isIrsaError(error)) {
        options.logger.error(options.message, {
          code: error.code,
          fix: error.fix,
          ...(error.detail === undefined ? {} : { detail: error.detail }),
          error,
        });
      } else {
        options.logger.error(options.message, { code: 'UNEXPECTED', error: error as Error });
      }
      options.onFailure?.(error);
    },
  };
}

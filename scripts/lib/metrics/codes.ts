/**
 * Label values for error codes. A label's every distinct value is a time series kept for ever by
 * Prometheus, so only codes of the error registry (`#core/error-codes.ts`) become label values;
 * anything else, e.g. an SDK error name, is counted as UNEXPECTED.
 */
import { isErrorCode } from '#core/error-codes.ts';
import { isIrsaError } from '#core/errors.ts';

/** The `code` label for a success. */
export const OK_CODE = 'OK';
/** The `code` label for an error that carries no project code. */
export const UNEXPECTED_CODE = 'UNEXPECTED';

/** `OK` for undefined, the error's stable code, or `UNEXPECTED`. Never a message or a value. */
export function codeLabel(error: unknown): string {
  if (error === undefined) return OK_CODE;
  return isIrsaError(error) && isErrorCode(error.code) ? error.code : UNEXPECTED_CODE;
}

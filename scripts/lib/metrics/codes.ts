/**
 * Label values for error codes. A label's every distinct value is a time series kept for ever by
 * Prometheus, so only the project's stable error codes (constants in the source, never built at
 * run time) become label values; anything else, e.g. an SDK error name, is counted as UNEXPECTED.
 */
import { isIrsaError } from '#core/errors.ts';

/** The `code` label for a success. */
export const OK_CODE = 'OK';
/** The `code` label for an error that carries no project code. */
export const UNEXPECTED_CODE = 'UNEXPECTED';

const CODE_SHAPE = /^[A-Z][A-Z0-9_]{1,63}$/;

/** `OK` for undefined, the error's stable code, or `UNEXPECTED`. Never a message or a value. */
export function codeLabel(error: unknown): string {
  if (error === undefined) return OK_CODE;
  return isIrsaError(error) && CODE_SHAPE.test(error.code) ? error.code : UNEXPECTED_CODE;
}

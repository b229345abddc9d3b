/** The Lambdas' one error middleware: log once, structured; count; never swallow the error. */
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { describe, expect, it, vi } from 'vitest';
import { IrsaError } from '#core/errors.ts';
import { logErrors } from '../../../functions/middleware/log-errors.ts';

function handlerThrowing(error: unknown) {
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const logError = vi.spyOn(logger, 'error');
  const onFailure = vi.fn();
  const handler = middy(async () => {
    throw error;
  }).use(logErrors({ logger, message: 'run failed', onFailure }));
  return { handler, logError, onFailure };
}

describe('logErrors', () => {
  it('logs an IrsaError with its code, fix and detail, counts it, and rethrows it', async () => {
    const error = new IrsaError('KEYSET_CORRUPT', 'keyset.json is not JSON.', 'Restore it.', {
      detail: { key: 'keyset.json' },
    });
    const { handler, logError, onFailure } = handlerThrowing(error);
    await expect(handler({}, {} as never)).rejects.toBe(error);
    expect(logError).toHaveBeenCalledTimes(1);
    expect(logError).toHaveBeenCalledWith('run failed', {
      code: 'KEYSET_CORRUPT',
      fix: 'Restore it.',
      detail: { key: 'keyset.json' },
      error,
    });
    expect(onFailure).toHaveBeenCalledWith(error);
  });

  it('logs anything else as UNEXPECTED and rethrows it', async () => {
    const error = new TypeError('boom');
    const { handler, logError } = handlerThrowing(error);
    await expect(handler({}, {} as never)).rejects.toBe(error);
    expect(logError).toHaveBeenCalledWith('run failed', { code: 'UNEXPECTED', error });
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { benchSteadyState } from '#scripts/lib/bench/steady-state.ts';

describe('benchSteadyState', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('counts one S3 read, no write and no KMS call for a rotate run with nothing to do, printing nothing on stdout', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const figures = await benchSteadyState({ runs: 3 });
    vi.restoreAllMocks();
    expect(figures).toEqual({ s3Get: 1, s3Put: 0, kmsCalls: 0 });
    expect(writes.join('')).toBe('');
    expect(process.env.POWERTOOLS_METRICS_DISABLED).toBeUndefined();
  });
});

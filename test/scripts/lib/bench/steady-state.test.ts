import { afterEach, describe, expect, it, vi } from 'vitest';
import { benchSteadyState, countRequests, isWrite } from '#scripts/lib/bench/steady-state.ts';

describe('countRequests', () => {
  it('counts every request and the writes among them', () => {
    expect(countRequests(['s3:GetObject', 's3:HeadObject', 's3:GetObject', 'kms:DescribeKey'])).toEqual({
      requests: 4,
      writes: 0,
      byName: { 's3:GetObject': 2, 's3:HeadObject': 1, 'kms:DescribeKey': 1 },
    });
    expect(countRequests(['s3:GetObject', 's3:PutObject', 'kms:CreateKey']).writes).toBe(2);
  });
  it('counts an unknown operation as a write, so the target cannot pass by omission', () => {
    expect(isWrite('kms:(unknown)')).toBe(true);
    expect(isWrite('s3:DeleteObject')).toBe(true);
    expect(isWrite('s3:ListObjectsV2')).toBe(false);
  });
});

describe('benchSteadyState', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('counts at most 3 requests and no write for a rotate run with nothing to do, printing nothing on stdout', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const figures = await benchSteadyState({ runs: 3 });
    vi.restoreAllMocks();
    expect(figures.writes).toBe(0);
    expect(figures.requests).toBeLessThanOrEqual(3);
    expect(figures.byName['s3:GetObject']).toBeGreaterThanOrEqual(1);
    expect(writes.join('')).toBe('');
    expect(process.env.POWERTOOLS_METRICS_DISABLED).toBeUndefined();
  });
});

/**
 * Acceptance: `irsa-anywhere signer serve --metrics-address 127.0.0.1:0` as a real process. After
 * a few Sign calls over its socket, a scrape of /metrics shows the Sign counter and latency
 * histogram moved and the keyset-age gauge present. And a non-loopback address is refused.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { writeLocalKeyset } from '#scripts/lib/signer/temp-signer.ts';
import { runCli } from '../../support/run-cli.ts';
import { sample, scrape } from '../lib/metrics/helpers.ts';

const BIN = fileURLToPath(new URL('../../../scripts/bin.mjs', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-signer-metrics-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('signer serve --metrics-address', () => {
  it('serves /metrics on loopback: Sign counter and histogram grow, keyset age present', async () => {
    const issuer = join(dir, 'issuer');
    await writeLocalKeyset(issuer, [{ spec: 'RSA_2048', state: 'active' }]);
    const socket = join(dir, 'run', 'signer.sock');
    const child = spawn(
      process.execPath,
      [
        BIN,
        'signer',
        'serve',
        '--backend',
        'local',
        '--dir',
        issuer,
        '--socket',
        socket,
        '--metrics-address',
        '127.0.0.1:0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 300 && !stderr.includes('signer listening'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const events = stderr
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string; address?: string });
      const address = events.find((e) => e.msg === 'metrics listening')?.address ?? '';
      expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
      const before = (await scrape(address)).body;
      const count = 'irsa_signer_sign_duration_seconds_count{result="success"}';
      const total = 'irsa_signer_sign_requests_total{result="success",code="OK"}';
      expect(sample(before, total) ?? 0).toBe(0);
      const client = connectSigner(socket);
      const claims = Buffer.from('{"sub":"system:serviceaccount:a:b"}').toString('base64url');
      for (let i = 0; i < 4; i++) await client.sign(claims);
      client.close();
      const after = (await scrape(address)).body;
      expect(sample(after, total)).toBe(4);
      expect(sample(after, count)).toBe(4);
      expect(sample(after, 'irsa_signer_sign_duration_seconds_bucket{le="+Inf",result="success"}')).toBe(4);
      expect(sample(after, 'irsa_signer_keyset_age_seconds')).toBeGreaterThanOrEqual(0);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a non-loopback address without --metrics-allow-remote (exit 2)', async () => {
    const result = await runCli(
      'signer',
      'serve',
      '--backend',
      'local',
      '--dir',
      join(dir, 'nowhere'),
      '--metrics-address',
      '0.0.0.0:9464',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('FLAG_METRICS_ADDRESS_REMOTE');
  });
});

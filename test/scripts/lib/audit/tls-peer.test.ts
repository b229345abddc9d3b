/**
 * The in-cluster certificate read: a real TLS server on loopback presenting a certificate the test
 * makes with openssl; the audit reads the chain without trusting it and checks it against a
 * caBundle itself. Skipped loudly where openssl is absent.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkServingCertificate } from '#scripts/lib/audit/certs.ts';
import { tlsPeerFetch } from '#scripts/lib/audit/tls-peer.ts';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasOpenssl)
  console.warn('SKIPPED LOUDLY: tls-peer.test.ts needs the openssl binary to make a test certificate.');

let dir: string;
let server: Server;
let port: number;
let cert: string;

describe.skipIf(!hasOpenssl)('reading a webhook serving certificate over TLS', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'irsa-audit-tls-'));
    const made = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=pod-identity-webhook.irsa-system.svc',
    ]);
    expect(made.status).toBe(0);
    cert = await readFile(join(dir, 'cert.pem'), 'utf8');
    server = createServer({ cert, key: await readFile(join(dir, 'key.pem'), 'utf8') }, (_req, res) =>
      res.end(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the presented certificate, which the audit then checks itself', async () => {
    const pem = await tlsPeerFetch(2_000)('127.0.0.1', port);
    expect(pem.replace(/\s/g, '')).toBe(cert.replace(/\s/g, ''));
    const check = checkServingCertificate(cert, pem, new Date());
    expect(check).toMatchObject({ verifies: true, expired: false, expiresSoon: true });
    const other = await readFile(
      new URL('../../../fixtures/audit/certs/webhook-ca.pem', import.meta.url),
      'utf8',
    );
    expect(checkServingCertificate(other, pem, new Date()).verifies).toBe(false);
  });

  it('fails with a clear error when nothing listens', async () => {
    await expect(tlsPeerFetch(1_000)('127.0.0.1', 1)).rejects.toThrow(/ECONNREFUSED/);
  });
});

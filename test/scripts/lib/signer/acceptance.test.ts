/**
 * Acceptance for the signer (issue 5): with the local issuer running, a token whose claims are
 * signed through the socket verifies with `irsa-anywhere verify` against the issuer's published
 * JWKS, and the kid in every header is both listed by FetchKeys and published, before and after
 * an emergency rotation.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProjectedTokenClaims, encodeJsonSegment } from '#core/projected-token.ts';
import { type RunningLocalIssuer, rotateLocal, startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { localBackend } from '#scripts/lib/signer/backends.ts';
import { connectSigner, type SignerClient } from '#scripts/lib/signer/client.ts';
import { memoryLog } from '#scripts/lib/signer/log.ts';
import { type Signer, startSigner } from '#scripts/lib/signer/run.ts';
import { runCli } from '../../../support/run-cli.ts';

let dir: string;
let issuer: RunningLocalIssuer;
let signer: Signer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-signer-acceptance-'));
  issuer = await startLocalIssuer({ dir: join(dir, 'issuer'), host: '127.0.0.1', port: 0 });
  signer = await startSigner({
    socket: join(dir, 'run', 'signer.sock'),
    backend: localBackend(join(dir, 'issuer')),
    log: memoryLog(),
    refresh: false,
  });
});
afterAll(async () => {
  await signer?.close();
  await issuer?.close();
  await rm(dir, { recursive: true, force: true });
});

/** What kube-apiserver does: build the claims, ask the signer, assemble the JWT. */
async function tokenThroughSocket(client: SignerClient): Promise<{ token: string; kid: string }> {
  const claims = encodeJsonSegment(
    buildProjectedTokenClaims({
      issuer: issuer.issuer,
      audiences: ['sts.amazonaws.com'],
      namespace: 'team-a',
      serviceAccount: 'app',
      serviceAccountUid: randomUUID(),
      now: new Date(),
      ttlSeconds: 3600,
      jti: randomUUID(),
    }),
  );
  const { header, signature } = await client.sign(claims);
  const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
  return { token: `${header}.${claims}.${signature}`, kid };
}

async function publishedKids(): Promise<string[]> {
  const jwks = (await (await fetch(`${issuer.issuer}/openid/v1/jwks`)).json()) as {
    keys: Array<{ kid: string }>;
  };
  return jwks.keys.map((k) => k.kid);
}

async function verifyWithCli(token: string) {
  const file = join(dir, `${randomUUID()}.jwt`);
  await writeFile(file, token);
  return runCli('verify', '--issuer', issuer.issuer, '--token', file, '--json');
}

describe.each(['v1', 'v1alpha1'] as const)('package %s', (pkg) => {
  it('a token signed through the socket verifies with `irsa-anywhere verify`; its kid is in FetchKeys and the JWKS', async () => {
    const client = connectSigner(join(dir, 'run', 'signer.sock'), pkg);
    try {
      const { token, kid } = await tokenThroughSocket(client);
      const result = await verifyWithCli(token);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        accepted: true,
        kid,
        sub: 'system:serviceaccount:team-a:app',
      });
      expect((await client.fetchKeys()).keys.map((k) => k.key_id)).toContain(kid);
      expect(await publishedKids()).toContain(kid);
    } finally {
      client.close();
    }
  });
});

it('after `rotate --now`, the signer (once refreshed) signs with the new key, and old and new tokens both verify', async () => {
  const client = connectSigner(join(dir, 'run', 'signer.sock'), 'v1');
  try {
    const before = await tokenThroughSocket(client);
    await rotateLocal(join(dir, 'issuer'), new Date(), { rotateNow: true });
    await signer.cache.refresh();
    const after = await tokenThroughSocket(client);
    expect(after.kid).not.toBe(before.kid);
    const fetched = (await client.fetchKeys()).keys.map((k) => k.key_id);
    const published = await publishedKids();
    for (const { token, kid } of [before, after]) {
      expect(fetched).toContain(kid);
      expect(published).toContain(kid);
      expect((await verifyWithCli(token)).code).toBe(0);
    }
  } finally {
    client.close();
  }
});

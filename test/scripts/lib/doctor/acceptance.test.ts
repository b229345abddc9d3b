/**
 * Acceptance: doctor against a local issuer served over http on 127.0.0.1 (documents built with the
 * core functions), through the real command and the real http fetch. A minted token gets PASS on
 * every issuer and token check with the AWS checks SKIPped; a token with a trailing-slash iss, an
 * unknown kid or a wrong aud FAILs on its own line with the advice to fix it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDoctor } from '#scripts/commands/doctor.ts';
import { createHttpFetch } from '#scripts/lib/doctor/http.ts';
import type { CheckResult, DoctorDeps } from '#scripts/lib/doctor/types.ts';
import { documents, type MintOptions, mintToken } from './helpers.ts';

let server: Server;
let issuer: string;
let dir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const docs = documents(issuer);
    const body =
      req.url === '/.well-known/openid-configuration'
        ? docs.discovery
        : req.url === '/openid/v1/jwks'
          ? docs.jwks
          : undefined;
    if (body === undefined) res.writeHead(404).end();
    else
      res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' })
        .end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(path.join(tmpdir(), 'doctor-'));
});

afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const deps = (): DoctorDeps => ({
  fetch: createHttpFetch({ timeoutMs: 5000 }),
  now: () => new Date(),
  readFile: (file) => readFile(file, 'utf8'),
  awsUnavailable: 'no AWS_PROFILE, AWS_ACCESS_KEY_ID, web identity or ~/.aws files found',
});

async function doctor(
  token: Partial<MintOptions> & { file?: string },
): Promise<{ code: number; out: string; checks: CheckResult[]; text: string }> {
  const file = path.join(dir, token.file ?? 'token');
  const iat = Math.floor(Date.now() / 1000) - 30;
  writeFileSync(file, `${await mintToken({ iss: issuer, iat, ...token })}\n`);
  const run = async (json: boolean) => {
    let out = '';
    let code = -1;
    const program = new Command().exitOverride();
    registerDoctor(deps)(
      program,
      { out: (s) => (out += `${s}\n`), err: (s) => (out += `${s}\n`) },
      (c) => (code = c),
    );
    await program.parseAsync([
      'node',
      'irsa-anywhere',
      'doctor',
      '--issuer',
      issuer,
      '--token',
      file,
      ...(json ? ['--json'] : []),
    ]);
    return { code, out };
  };
  const json = await run(true);
  const text = await run(false);
  expect(text.code).toBe(json.code);
  return {
    code: json.code,
    out: json.out,
    checks: (JSON.parse(json.out) as { checks: CheckResult[] }).checks,
    text: text.out,
  };
}

const status = (checks: CheckResult[], id: string) => checks.find((c) => c.id === id);

describe('doctor against a local issuer', () => {
  it('passes every issuer and token check for a minted token and skips the AWS checks with a reason', async () => {
    const { code, checks, text } = await doctor({});
    const issuerAndToken = checks.filter((c) => /^(issuer|discovery|jwks|token)\./.test(c.id));
    expect(issuerAndToken.length).toBeGreaterThanOrEqual(20);
    expect(issuerAndToken.filter((c) => c.status !== 'PASS')).toEqual([]);
    const aws = checks.filter((c) => /^(iam|trust|sts)\./.test(c.id));
    expect(aws.map((c) => c.id)).toEqual([
      'iam.provider',
      'iam.audience',
      'trust.role',
      'trust.policy',
      'sts.assume',
    ]);
    for (const check of aws) expect(check.status, check.id).toBe('SKIP');
    expect(status(checks, 'iam.provider')?.detail).toMatch(
      /loopback URL that AWS cannot reach: IAM checks skipped/,
    );
    expect(checks.filter((c) => c.status === 'FAIL')).toEqual([]);
    expect(code).toBe(0);
    expect(text).toMatch(/^PASS +token\.signature/m);
    expect(text).toMatch(/\d+ passed, 0 warnings, 0 failed, \d+ skipped/);
  });

  it('fails a token whose iss has a trailing slash, saying so and giving the exact issuer', async () => {
    const { code, checks, text } = await doctor({ iss: `${issuer}/`, file: 'slash' });
    expect(code).toBe(1);
    const iss = status(checks, 'token.iss');
    expect(iss?.status).toBe('FAIL');
    expect(iss?.detail).toContain(`"${issuer}/" has a trailing slash that "${issuer}" does not`);
    expect(iss?.fix).toContain(`all exactly "${issuer}"`);
    expect(status(checks, 'token.signature')?.status).toBe('PASS');
    expect(text).toMatch(/^FAIL +token\.iss/m);
    expect(text).toMatch(/fix: Make kube-apiserver's --service-account-issuer/);
  });

  it('fails a token with an unknown kid with the STS wording and the publishing advice', async () => {
    const { code, checks } = await doctor({
      kid: 'nOtPuBlIsHeD00000000000000000000000000000000',
      file: 'kid',
    });
    expect(code).toBe(1);
    const kid = status(checks, 'token.kid');
    expect(kid?.status).toBe('FAIL');
    expect(kid?.detail).toContain("Couldn't retrieve verification key from your identity provider");
    expect(kid?.fix).toMatch(/Publish the signing key before it signs/);
  });

  it('fails a token with a wrong aud and says which audience to request', async () => {
    const { code, checks } = await doctor({ aud: ['https://kubernetes.default.svc'], file: 'aud' });
    expect(code).toBe(1);
    const aud = status(checks, 'token.aud');
    expect(aud?.status).toBe('FAIL');
    expect(aud?.detail).toContain('["https://kubernetes.default.svc"]');
    expect(aud?.fix).toContain('"sts.amazonaws.com"');
    expect(checks.filter((c) => c.status === 'FAIL').map((c) => c.id)).toEqual(['token.aud']);
  });
});

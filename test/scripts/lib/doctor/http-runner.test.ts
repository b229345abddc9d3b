import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorOptions } from '#scripts/commands/doctor.ts';
import { awsCredentialsMissing } from '#scripts/lib/doctor/deps.ts';
import { createHttpFetch, describeFetchProblem } from '#scripts/lib/doctor/http.ts';
import { CHECKS, doctorExitCode, formatChecklist, runDoctor } from '#scripts/lib/doctor/runner.ts';
import { hintForStsError, STS_ERROR_HINTS } from '#scripts/lib/doctor/sts-errors.ts';
import type { CheckResult } from '#scripts/lib/doctor/types.ts';
import { fakeFetch, offlineDeps } from './helpers.ts';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/redirect') res.writeHead(302, { location: '/target' }).end();
    else if (req.url === '/target')
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"followed":true}');
    else if (req.url === '/big') res.writeHead(200).end('x'.repeat(1_100_000));
    else res.writeHead(200, { 'Cache-Control': 'max-age=60' }).end('{"ok":1}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

describe('createHttpFetch', () => {
  const fetch = createHttpFetch({ timeoutMs: 5000 });

  it('returns status, lower-cased headers and body', async () => {
    const response = await fetch(`${base}/doc`);
    expect(response).toMatchObject({ status: 200, body: '{"ok":1}' });
    expect(response.headers['cache-control']).toBe('max-age=60');
  });

  it('does not follow redirects, as STS does not', async () => {
    const response = await fetch(`${base}/redirect`);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/target');
    expect(describeFetchProblem(response)).toMatch(/redirect to \/target; STS does not follow redirects/);
  });

  it('refuses plain http to a non-loopback host without connecting, and caps the size', async () => {
    expect((await fetch('http://oidc.example.com/x')).networkError).toMatch(/https only/);
    expect((await fetch(`${base}/big`)).networkError).toMatch(/larger than/);
    expect((await fetch('http://127.0.0.1:1/x')).networkError).toMatch(/ECONNREFUSED/);
  });
});

describe('runner', () => {
  it('exits 0 without FAIL lines and 1 with one', () => {
    const line = (status: CheckResult['status']): CheckResult => ({
      id: 'x',
      title: 'x',
      status,
      detail: '',
      fix: '',
    });
    expect(doctorExitCode([line('PASS'), line('WARN'), line('SKIP')])).toBe(0);
    expect(doctorExitCode([line('PASS'), line('FAIL')])).toBe(1);
    expect(
      formatChecklist([
        { ...line('FAIL'), fix: 'do this' },
        { ...line('PASS'), fix: 'hidden' },
      ]),
    ).toBe(
      [
        'FAIL  x                       x',
        '      fix: do this',
        'PASS  x                       x',
        '',
        '1 passed, 0 warnings, 1 failed, 0 skipped',
      ].join('\n'),
    );
  });

  it('without an issuer, says which flag to pass and fails', async () => {
    const results = await runDoctor({}, offlineDeps(fakeFetch({})));
    const issuer = results.find((r) => r.id === 'issuer.url');
    expect(issuer).toMatchObject({ status: 'FAIL', fix: expect.stringContaining('--issuer') });
    expect(results.find((r) => r.id === 'discovery.fetch')?.status).toBe('SKIP');
    expect(results.filter((r) => r.status === 'FAIL').map((r) => r.id)).toEqual(['issuer.url']);
    expect(CHECKS.length).toBe(13);
  });
});

describe('doctor flags', () => {
  it('rejects --stack with --issuer, half a service account, and --assume without a role', () => {
    expect(() => doctorOptions({ stack: 's', issuer: 'https://x' })).toThrow(/cannot be combined/);
    expect(() => doctorOptions({ namespace: 'apps' })).toThrow(/go together/);
    expect(() => doctorOptions({ assume: true })).toThrow(/--assume needs --role-arn/);
    expect(doctorOptions({ token: 't', namespace: 'a', serviceAccount: 'b' })).toEqual({
      tokenFile: 't',
      namespace: 'a',
      serviceAccount: 'b',
    });
  });

  it('detects configured AWS credentials by name only', () => {
    const none = () => false;
    expect(awsCredentialsMissing({}, '/home/u', none)).toMatch(/no AWS_PROFILE/);
    expect(awsCredentialsMissing({ AWS_PROFILE: 'dev' }, '/home/u', none)).toBeUndefined();
    expect(awsCredentialsMissing({}, '/home/u', (f) => f === '/home/u/.aws/config')).toBeUndefined();
  });
});

describe('STS error hints', () => {
  it.each([
    [
      "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation",
      'token.kid',
    ],
    ['No OpenIDConnect provider found in your account for https://oidc.example.com/c1/', 'iam.provider'],
    ['Incorrect token audience', 'iam.audience'],
    ['Not authorized to perform sts:AssumeRoleWithWebIdentity', 'trust.policy'],
    ['Token is expired', 'token.time'],
  ])('maps "%s" to a check that finds it', (message, check) => {
    expect(hintForStsError(message)?.checks).toContain(check);
  });

  it('names only checks that exist', async () => {
    const ids = new Set(
      (
        await runDoctor(
          {
            issuer: 'https://oidc.example.com/c1',
            kubeconfig: 'kc',
            assume: true,
            roleArn: 'arn:aws:iam::111122223333:role/r',
          },
          offlineDeps(fakeFetch({})),
        )
      ).map((r) => r.id),
    );
    for (const hint of STS_ERROR_HINTS) for (const check of hint.checks) expect(ids, check).toContain(check);
  });
});

/**
 * Issue 14 item 11, "Doctor misreports": what doctor said against a real kube-apiserver and on
 * simple mistakes. Each case is a behaviour a user saw: a JWKS check that could never pass (406),
 * 404s and 403s reported as permission FAILs, five FAILs for one unreachable API server, an http
 * issuer "served over HTTPS", advice that does not work. In-process, with fake servers on port 0.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkDoctorInputs } from '#scripts/commands/doctor.ts';
import { realDoctorDeps } from '#scripts/lib/doctor/deps.ts';
import { createKubeClient, type KubeResponse } from '#scripts/lib/doctor/kube-client.ts';
import { readKubeconfig } from '#scripts/lib/doctor/kubeconfig.ts';
import { doctorExitCode, runDoctor } from '#scripts/lib/doctor/runner.ts';
import type { AwsClients, CheckResult, DoctorDeps } from '#scripts/lib/doctor/types.ts';
import { documents, fakeKube, line, mintToken, offlineDeps, RSA_KID, servedIssuer } from './helpers.ts';

const ISSUER = 'https://oidc.example.com/c1';
const json = (status: number, body: unknown): KubeResponse => ({ status, body: JSON.stringify(body) });
const forbidden = (what: string) =>
  json(403, {
    kind: 'Status',
    status: 'Failure',
    reason: 'Forbidden',
    code: 403,
    message: `${what} is forbidden`,
  });
const notFound = (what: string) =>
  json(404, {
    kind: 'Status',
    status: 'Failure',
    reason: 'NotFound',
    code: 404,
    message: `${what} not found`,
  });
const cluster = (lines: CheckResult[]) =>
  lines.filter((l) => l.id.startsWith('cluster.') || l.id === 'token.source');

/** A kube-apiserver stand-in that, like the real one, serves the JWKS only as jwk-set+json. */
let apiserver: Server;
let apiserverUrl: string;
let dir: string;
beforeAll(async () => {
  apiserver = createServer((req, res) => {
    const accept = req.headers.accept ?? '';
    if (req.url === '/openid/v1/jwks') {
      if (!accept.includes('application/jwk-set+json')) {
        res.writeHead(406, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            kind: 'Status',
            code: 406,
            reason: 'NotAcceptable',
            message: 'only application/jwk-set+json',
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(documents(ISSUER).jwks);
      return;
    }
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(documents(ISSUER).discovery);
      return;
    }
    if (req.url === '/version') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"gitVersion":"v1.34.1"}');
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
  });
  await new Promise<void>((resolve) => apiserver.listen(0, '127.0.0.1', resolve));
  apiserverUrl = `http://127.0.0.1:${(apiserver.address() as AddressInfo).port}`;
  dir = mkdtempSync(path.join(tmpdir(), 'doctor-misreports-'));
});
afterAll(() => {
  apiserver.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Doctor against the published issuer, with `kube` as the cluster. */
function withCluster(kubeClient: DoctorDeps['kubeClient']): DoctorDeps {
  return { ...offlineDeps(servedIssuer(ISSUER)), kubeClient };
}

/** Doctor on a fake cluster answering `responses` (GET /version 200 unless given), for `namespace`/web. */
function onCluster(responses: Record<string, KubeResponse>, namespace?: string): Promise<CheckResult[]> {
  const kube = fakeKube({ 'GET /version': json(200, {}), ...responses });
  const account = namespace === undefined ? {} : { namespace, serviceAccount: 'web' };
  return runDoctor(
    { issuer: ISSUER, kubeconfig: 'kc', ...account },
    withCluster(async () => kube),
  );
}

/** The ids of the FAIL lines among the cluster and token-source lines. */
const failures = (results: CheckResult[]) =>
  cluster(results)
    .filter((l) => l.status === 'FAIL')
    .map((l) => l.id);

describe('cluster.jwks against kube-apiserver', () => {
  it('asks for application/jwk-set+json, so the real client gets the JWKS (not a 406) and passes', async () => {
    const results = await runDoctor(
      { issuer: ISSUER, kubeconfig: 'kc' },
      withCluster(async () => createKubeClient({ server: apiserverUrl, context: 'c' })),
    );
    expect(line(results, 'cluster.jwks')).toMatchObject({
      status: 'PASS',
      detail: expect.stringContaining(RSA_KID),
    });
    expect(line(results, 'cluster.discovery').status).toBe('PASS');
  });
});

describe('404 and 403 from kube-apiserver', () => {
  it('a 404 from the discovery endpoints is a SKIP with the real reason, not a permissions FAIL', async () => {
    const results = await onCluster({});
    for (const id of ['cluster.discovery', 'cluster.jwks']) {
      expect(line(results, id)).toMatchObject({
        status: 'SKIP',
        detail: expect.stringMatching(/HTTP 404.*not https.*1\.32–1\.33 with an external signer/),
      });
      expect(line(results, id).detail).not.toMatch(/allowed|RBAC/);
    }
  });

  it('a least-privilege user gets SKIPs naming the RBAC rule in every cluster check, and exit 0', async () => {
    const results = await onCluster(
      {
        'GET /.well-known/openid-configuration': forbidden('nonResourceURL'),
        'GET /openid/v1/jwks': forbidden('nonResourceURL'),
        'GET /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations': forbidden('list'),
        'GET /api/v1/namespaces/apps/serviceaccounts/web': forbidden('serviceaccounts "web"'),
        'POST /api/v1/namespaces/apps/serviceaccounts/web/token': forbidden('serviceaccounts/token'),
      },
      'apps',
    );
    expect(failures(results)).toEqual([]);
    for (const id of [
      'cluster.discovery',
      'cluster.jwks',
      'cluster.webhook',
      'cluster.serviceaccount',
      'token.source',
    ])
      expect(line(results, id)).toMatchObject({
        status: 'SKIP',
        detail: expect.stringContaining('needs RBAC'),
      });
    expect(line(results, 'cluster.discovery').detail).toContain('system:service-account-issuer-discovery');
    expect(line(results, 'cluster.serviceaccount').detail).toContain(
      'get on serviceaccounts in namespace apps',
    );
    expect(doctorExitCode(results)).toBe(0);
  });
});

describe('one unreachable API server', () => {
  it('is one FAIL (cluster.reachable); the dependent checks and the TokenRequest SKIP', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const results = await runDoctor(
      { issuer: ISSUER, kubeconfig: 'kc', namespace: 'apps', serviceAccount: 'web' },
      withCluster(async () => createKubeClient({ server: `http://127.0.0.1:${port}`, context: 'c' })),
    );
    expect(failures(results)).toEqual(['cluster.reachable']);
    expect(line(results, 'cluster.reachable').detail).toMatch(/KUBE_UNREACHABLE.*ECONNREFUSED/);
    for (const id of [
      'cluster.discovery',
      'cluster.jwks',
      'cluster.webhook',
      'cluster.serviceaccount',
      'token.source',
    ])
      expect(line(results, id)).toMatchObject({
        status: 'SKIP',
        detail: expect.stringContaining('API server unreachable'),
      });
  });

  it('rejected credentials (401) are one FAIL too', async () => {
    const results = await onCluster({
      'GET /version': json(401, { kind: 'Status', code: 401, message: 'Unauthorized' }),
    });
    expect(failures(results)).toEqual(['cluster.reachable']);
    expect(line(results, 'cluster.webhook').detail).toContain('rejected the credentials');
  });
});

describe('what the checklist claims', () => {
  it('an http loopback issuer is never "served over HTTPS, trusted certificate"; it says local mode, plain http', async () => {
    const local = 'http://127.0.0.1:8900';
    const token = await mintToken({
      iss: local,
      iat: Math.floor(Date.parse('2026-03-01T12:00:00Z') / 1000) - 60,
    });
    const results = await runDoctor(
      { issuer: local, tokenFile: '/t' },
      offlineDeps(servedIssuer(local), { '/t': token }),
    );
    const passes = results.filter((l) => l.status === 'PASS');
    expect(passes.filter((l) => /HTTPS|trusted certificate|canonical \(https/.test(l.title))).toEqual([]);
    expect(line(results, 'discovery.fetch')).toMatchObject({
      status: 'PASS',
      title: expect.stringContaining('local mode: plain http'),
    });
    expect(line(results, 'jwks.fetch').title).toContain('local mode: plain http');
    expect(line(results, 'issuer.url').title).toMatch(/local-mode loopback URL \(plain http\)/);
  });

  it('--stack whose outputs cannot be read does not also claim no --stack was given', async () => {
    const cfn = mockClient(CloudFormationClient);
    cfn.on(DescribeStacksCommand).rejects(new Error('Could not load credentials from any providers'));
    const deps: DoctorDeps = {
      ...offlineDeps(servedIssuer(ISSUER)),
      aws: { cfn: new CloudFormationClient({ region: 'us-east-1' }) } as unknown as AwsClients,
    };
    const results = await runDoctor({ stack: 'X' }, deps);
    cfn.restore();
    expect(results.map((l) => l.detail).join('\n')).not.toContain('none of --issuer, --stack');
    expect(line(results, 'issuer.url')).toMatchObject({
      status: 'SKIP',
      detail: 'no issuer: the stack X could not be read (see stack.outputs)',
    });
    expect(results.filter((l) => l.status === 'FAIL').map((l) => l.id)).toEqual(['stack.outputs']);
  });

  it('doctor with nothing to check prints its usage (exit class: usage)', () => {
    expect(() => checkDoctorInputs({})).toThrow(
      expect.objectContaining({
        code: 'FLAG_MISSING',
        message: expect.stringContaining('Usage: irsa-anywhere doctor (--stack NAME | --issuer URL'),
      }),
    );
  });
});

describe('advice on simple mistakes', () => {
  it('a missing kubeconfig (or a file it names) is one line naming the path and --kubeconfig/KUBECONFIG', async () => {
    expect(() => checkDoctorInputs({ kubeconfig: path.join(dir, 'nope') })).toThrow(
      expect.objectContaining({ code: 'INPUT_MISSING', fix: expect.stringContaining('KUBECONFIG') }),
    );
    const deps = realDoctorDeps({ kubeconfig: 'x' }, {});
    await expect(deps.kubeClient?.(path.join(dir, 'gone'))).rejects.toMatchObject({
      code: 'KUBECONFIG_INVALID',
      message: expect.stringContaining(path.join(dir, 'gone')),
      fix: expect.stringContaining('KUBECONFIG'),
    });
    const file = path.join(dir, 'kubeconfig');
    writeFileSync(
      file,
      stringify({
        'current-context': 'c',
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
        clusters: [
          { name: 'k', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority': 'ca.crt' } },
        ],
        users: [{ name: 'u', user: { token: 't' } }],
      }),
    );
    await expect(deps.kubeClient?.(file)).rejects.toMatchObject({
      code: 'KUBECONFIG_INVALID',
      message: expect.stringContaining(
        `names ${path.join(dir, 'ca.crt')}, which cannot be read (no such file)`,
      ),
    });
    await expect(readKubeconfig('x: 1', '/', async () => '')).rejects.toMatchObject({
      code: 'KUBECONFIG_INVALID',
    });
  });

  it('token.source after an unusable kubeconfig says so, not that --namespace/--service-account were missing', async () => {
    const results = await runDoctor(
      { issuer: ISSUER, kubeconfig: 'kc', namespace: 'apps', serviceAccount: 'web' },
      withCluster(async () => readKubeconfig('x: 1', '/', async () => '').then(() => fakeKube({}))),
    );
    expect(line(results, 'cluster.kubeconfig').status).toBe('FAIL');
    expect(line(results, 'token.source')).toMatchObject({
      status: 'SKIP',
      detail: expect.stringContaining('the kubeconfig is not usable'),
    });
    expect(line(results, 'token.source').detail).not.toContain('were not both given');
    expect(failures(results)).toEqual(['cluster.kubeconfig']);
  });

  it('a missing namespace is created before the service account', async () => {
    const results = await onCluster(
      {
        'POST /api/v1/namespaces/nons/serviceaccounts/web/token': notFound('namespaces "nons"'),
        'GET /api/v1/namespaces/nons/serviceaccounts/web': notFound('serviceaccounts "web"'),
        'GET /api/v1/namespaces/nons': notFound('namespaces "nons"'),
      },
      'nons',
    );
    const fix = 'kubectl create namespace nons && kubectl -n nons create serviceaccount web';
    expect(line(results, 'token.source')).toMatchObject({ status: 'FAIL', fix });
    expect(line(results, 'cluster.serviceaccount')).toMatchObject({ status: 'FAIL', fix });
    const again = await onCluster(
      { 'GET /api/v1/namespaces/apps': json(200, { kind: 'Namespace' }) },
      'apps',
    );
    expect(line(again, 'cluster.serviceaccount').fix).toBe('kubectl -n apps create serviceaccount web');
  });
});

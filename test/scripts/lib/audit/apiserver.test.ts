/**
 * The audit against a real kube-apiserver that this test starts (etcd + kube-apiserver binaries on
 * PATH): a pod created before the webhook, and a pod admitted unmutated because the webhook is
 * unreachable and its failurePolicy is Ignore, the silent failure the audit exists for. Where the
 * binaries are absent (this machine, CI) the test is skipped, and says so loudly.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAudit } from '#scripts/commands/audit.ts';
import type { AuditReport } from '#scripts/lib/audit/evaluate.ts';
import { createKubeClient, type KubeClient } from '#scripts/lib/doctor/kube-client.ts';
import { runRegistered } from '../../../support/run-cli.ts';

const onPath = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const available = onPath('kube-apiserver') && onPath('etcd');
if (!available) {
  console.warn(
    'SKIPPED LOUDLY: test/scripts/lib/audit/apiserver.test.ts needs kube-apiserver and etcd on PATH; the audit was checked on recorded responses only.',
  );
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

let dir: string;
const children: ChildProcess[] = [];
let kube: KubeClient;

async function until(what: string, check: () => Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready in ${ms} ms`);
}

async function post(path: string, body: unknown) {
  const response = await kube.request('POST', path, body);
  if (response.status !== 201) throw new Error(`POST ${path}: HTTP ${response.status} ${response.body}`);
}

const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web' } },
  spec: { serviceAccountName: 'web', containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
});

describe.skipIf(!available)('audit against a real kube-apiserver', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'irsa-audit-apiserver-'));
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    spawnSync('openssl', ['genrsa', '-out', join(dir, 'sa.key'), '2048']);
    spawnSync('openssl', ['rsa', '-in', join(dir, 'sa.key'), '-pubout', '-out', join(dir, 'sa.pub')]);
    await writeFile(join(dir, 'tokens.csv'), 'audit-test-token,admin,admin-uid,system:masters\n');
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    children.push(
      spawn(
        'etcd',
        [
          '--data-dir',
          join(dir, 'etcd'),
          '--listen-client-urls',
          etcdUrl,
          '--advertise-client-urls',
          etcdUrl,
          '--listen-peer-urls',
          `http://127.0.0.1:${peerPort}`,
        ],
        { stdio: 'ignore' },
      ),
      spawn(
        'kube-apiserver',
        [
          `--etcd-servers=${etcdUrl}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${apiPort}`,
          `--cert-dir=${join(dir, 'certs')}`,
          `--token-auth-file=${join(dir, 'tokens.csv')}`,
          '--authorization-mode=RBAC',
          '--service-cluster-ip-range=10.0.0.0/24',
          '--service-account-issuer=https://oidc.example.com/c1',
          `--service-account-key-file=${join(dir, 'sa.pub')}`,
          `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        ],
        { stdio: 'ignore' },
      ),
    );
    kube = createKubeClient({
      server: `https://127.0.0.1:${apiPort}`,
      token: 'audit-test-token',
      insecureSkipTlsVerify: true,
      context: 'test',
    });
    await until('kube-apiserver', async () => (await kube.request('GET', '/readyz')).status === 200, 120_000);
    await until(
      'the default namespace',
      async () => (await kube.request('GET', '/api/v1/namespaces/default')).status === 200,
    );
    await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
    await post('/api/v1/namespaces/apps/serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: 'web',
        annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/web' },
      },
    });
    await post('/api/v1/namespaces/apps/pods', pod('before-webhook'));
    // creationTimestamp has one-second resolution.
    await new Promise((r) => setTimeout(r, 1_500));
    const ca = readFileSync(new URL('../../../fixtures/audit/certs/webhook-ca.pem', import.meta.url));
    await post('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'pod-identity-webhook' },
      webhooks: [
        {
          name: 'pod-identity-webhook.amazonaws.com',
          failurePolicy: 'Ignore',
          sideEffects: 'None',
          admissionReviewVersions: ['v1beta1'],
          timeoutSeconds: 2,
          clientConfig: {
            service: { namespace: 'irsa-system', name: 'pod-identity-webhook', path: '/mutate' },
            caBundle: ca.toString('base64'),
          },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 1_500));
    // The webhook's Service does not exist: the call fails and Ignore admits the pod unmutated.
    await post('/api/v1/namespaces/apps/pods', pod('after-webhook'));
  }, 180_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('finds both pods without their role, each with its reason', async () => {
    const result = await runRegistered(
      registerAudit(() => ({
        kube: async () => kube,
        now: () => new Date(),
        iam: () => ({ send: async () => ({}) }),
      })),
      ['audit', '--json'],
    );
    const report = JSON.parse(result.out) as AuditReport;
    expect(result.code).toBe(1);
    const reasons = Object.fromEntries(report.pods.map((p) => [p.name, p.reasons]));
    expect(reasons['before-webhook']).toContain('POD_CREATED_BEFORE_WEBHOOK');
    expect(reasons['after-webhook']).toEqual(['FAILURE_POLICY_IGNORE']);
  });
});

/**
 * Reading the cluster: pagination, refusals mapped to coded errors, the progress line, the
 * in-cluster credentials, the serving certificate over TLS when the Secret is not readable, and
 * the table and RBAC the command prints.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { registerAudit } from '#scripts/commands/audit.ts';
import { collectAudit, listAll } from '#scripts/lib/audit/collect.ts';
import { evaluateAudit } from '#scripts/lib/audit/evaluate.ts';
import { inClusterTarget, resolveKubeTarget } from '#scripts/lib/audit/kube-target.ts';
import { runRegistered } from '../../../support/run-cli.ts';
import { fakeKube } from '../doctor/helpers.ts';
import { caseDeps, loadCase, recordedKube } from './helpers.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-audit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const page = (names: string[], next?: string) => ({
  status: 200,
  body: JSON.stringify({
    kind: 'PodList',
    metadata: next === undefined ? {} : { continue: next },
    items: names.map((name) => ({ metadata: { name, namespace: 'apps' }, spec: {} })),
  }),
});

describe('listing', () => {
  it('follows continue tokens until the last page', async () => {
    const kube = fakeKube({
      'GET /api/v1/pods?limit=500': page(['a', 'b'], 'tok/1'),
      'GET /api/v1/pods?limit=500&continue=tok%2F1': page(['c']),
    });
    const counts: number[] = [];
    const items = await listAll(kube, '/api/v1/pods', (n) => counts.push(n));
    expect(items).toHaveLength(3);
    expect(counts).toEqual([2, 3]);
  });

  it('a refused list is AUDIT_KUBE_FORBIDDEN pointing at --print-rbac; other failures AUDIT_KUBE_FAILED', async () => {
    const forbidden = fakeKube({
      'GET /api/v1/serviceaccounts?limit=500': {
        status: 403,
        body: JSON.stringify({ message: 'serviceaccounts is forbidden: User "bob" cannot list' }),
      },
    });
    await expect(listAll(forbidden, '/api/v1/serviceaccounts')).rejects.toMatchObject({
      code: 'AUDIT_KUBE_FORBIDDEN',
      fix: expect.stringContaining('--print-rbac'),
    });
    await expect(listAll(fakeKube({}), '/api/v1/pods')).rejects.toMatchObject({ code: 'AUDIT_KUBE_FAILED' });
    const result = await runRegistered(
      registerAudit(() => ({ ...caseDeps(loadCase('healthy')), kube: async () => forbidden })),
      ['audit'],
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain('error AUDIT_KUBE_FORBIDDEN');
    const json = await runRegistered(
      registerAudit(() => ({ ...caseDeps(loadCase('healthy')), kube: async () => forbidden })),
      ['audit', '--json'],
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, code: 'AUDIT_KUBE_FORBIDDEN' });
  });

  it('reports progress while listing, and clears the line at the end', async () => {
    const lines: string[] = [];
    await collectAudit(
      {
        kube: recordedKube(loadCase('healthy').responses),
        now: () => new Date(),
        progress: (t) => lines.push(t),
      },
      ['sts.amazonaws.com'],
    );
    expect(lines).toContain('listing pods: 3');
    expect(lines.at(-1)).toBe('');
  });

  it('reads the serving certificate over TLS when the Secret is forbidden and a TLS fetch is available', async () => {
    const c = loadCase('secret-forbidden');
    const asked: string[] = [];
    const input = await collectAudit(
      {
        kube: recordedKube(c.responses),
        now: () => new Date(c.now),
        tlsPeer: async (host, port) => {
          asked.push(`${host}:${port}`);
          return (await import('node:fs')).readFileSync(
            new URL('../../../fixtures/audit/certs/serving-other-ca.pem', import.meta.url),
            'utf8',
          );
        },
      },
      ['sts.amazonaws.com'],
    );
    expect(asked).toEqual(['pod-identity-webhook.irsa-system.svc:443']);
    expect(input.servingCert).toMatchObject({ source: 'TLS pod-identity-webhook.irsa-system.svc:443' });
    expect(evaluateAudit(input).findings.map((f) => f.id)).toContain('CA_BUNDLE_MISMATCH');
  });
});

describe('credentials', () => {
  it('uses the pod service account token and CA in the cluster', async () => {
    await writeFile(join(dir, 'token'), 'eyJhbGciOi.token.sig\n');
    await writeFile(join(dir, 'ca.crt'), 'CA PEM');
    const target = await inClusterTarget(
      { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      (f) => import('node:fs/promises').then((fs) => fs.readFile(f, 'utf8')),
      dir,
    );
    expect(target).toEqual({
      server: 'https://10.96.0.1:443',
      ca: 'CA PEM',
      token: 'eyJhbGciOi.token.sig',
      context: 'in-cluster',
    });
    expect(await inClusterTarget({}, async () => '')).toBeUndefined();
    const v6 = await inClusterTarget({ KUBERNETES_SERVICE_HOST: 'fd00::1' }, async () => 'x', dir);
    expect(v6?.server).toBe('https://[fd00::1]:443');
  });

  it('says clearly when there is no kubeconfig anywhere', async () => {
    await expect(
      resolveKubeTarget({
        env: {},
        home: dir,
        readFile: (f) => import('node:fs/promises').then((fs) => fs.readFile(f, 'utf8')),
      }),
    ).rejects.toMatchObject({
      code: 'KUBECONFIG_INVALID',
      message: expect.stringContaining('No kubeconfig'),
    });
  });
});

describe('output', () => {
  it('prints a table with the reason of each pod without its role, and exits 1', async () => {
    const c = loadCase('namespace-excluded');
    const result = await runRegistered(
      registerAudit(() => caseDeps(c)),
      ['audit'],
    );
    expect(result.code).toBe(1);
    expect(result.out).toMatch(
      /batch\s+nightly-28461\s+jobs\s+NO \(missing AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, token volume\)\s+NAMESPACE_EXCLUDED/,
    );
    expect(result.out).toContain('needs label irsa.example.com/enabled in (true)');
    expect(result.out).toContain('FAIL: 1 pod(s) would run without their role');
  });

  it('--print-rbac prints a read-only ClusterRole with exactly the calls the audit makes', async () => {
    const result = await runRegistered(
      registerAudit(() => caseDeps(loadCase('healthy'))),
      ['audit', '--print-rbac'],
    );
    expect(result.code).toBe(0);
    const docs = parseAllDocuments(result.out).map(
      (d) => d.toJSON() as { kind: string; rules: Array<{ verbs: string[] }> },
    );
    expect(docs.map((d) => d.kind)).toEqual(['ClusterRole', 'Role']);
    const verbs = new Set(docs.flatMap((d) => d.rules.flatMap((r) => r.verbs)));
    expect([...verbs].sort()).toEqual(['get', 'list']);
    expect(docs[0]).toMatchObject({
      rules: expect.arrayContaining([
        expect.objectContaining({ resources: ['serviceaccounts', 'pods', 'namespaces'], verbs: ['list'] }),
        expect.objectContaining({ resources: ['mutatingwebhookconfigurations'], verbs: ['list'] }),
      ]),
    });
    expect(JSON.stringify(docs[0])).not.toContain('secrets');
    expect(docs[1]).toMatchObject({
      rules: [{ resources: ['secrets'], resourceNames: ['pod-identity-webhook-cert'] }],
    });
  });

  it('every path the audit reads is one the printed RBAC grants', async () => {
    const c = loadCase('trust-admits');
    const kube = recordedKube(c.responses);
    await runRegistered(
      registerAudit(() => ({ ...caseDeps(c), kube: async () => kube })),
      ['audit', '--json', '--trust'],
    );
    const granted = [
      /^\/api\/v1\/(serviceaccounts|pods|namespaces)\?/,
      /^\/apis\/admissionregistration\.k8s\.io\/v1\/mutatingwebhookconfigurations\?/,
      /^\/apis\/cert-manager\.io\/v1\/namespaces\/[^/]+\/certificates\/[^/?]+$/,
      /^\/api\/v1\/namespaces\/irsa-system\/secrets\/pod-identity-webhook-cert$/,
      /^\/\.well-known\/openid-configuration$/,
    ];
    for (const path of kube.paths)
      expect(
        granted.some((re) => re.test(path)),
        path,
      ).toBe(true);
  });
});

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkCluster } from '#scripts/lib/doctor/checks/cluster.ts';
import { checkKubeconfig, checkTokenSource } from '#scripts/lib/doctor/checks/setup.ts';
import { createKubeClient, type KubeResponse } from '#scripts/lib/doctor/kube-client.ts';
import { readKubeconfig } from '#scripts/lib/doctor/kubeconfig.ts';
import {
  context,
  documents,
  EC_KID,
  fakeFetch,
  fakeKube,
  line,
  mintToken,
  offlineDeps,
  RSA_KID,
  recorded,
} from './helpers.ts';

const ISSUER = 'https://oidc.example.com/c1';
const ROLE_ARN = 'arn:aws:iam::111122223333:role/web';
const json = (status: number, body: unknown): KubeResponse => ({ status, body: JSON.stringify(body) });

const WEBHOOKS = 'GET /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const SLICES =
  'GET /apis/discovery.k8s.io/v1/namespaces/irsa-system/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dpod-identity-webhook';

function clusterResponses(overrides: Record<string, KubeResponse> = {}) {
  return {
    'GET /.well-known/openid-configuration': json(200, JSON.parse(documents(ISSUER).discovery)),
    'GET /openid/v1/jwks': json(200, { keys: [{ kid: RSA_KID, kty: 'RSA' }] }),
    'GET /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations': json(
      200,
      recorded('kube-webhooks.json'),
    ),
    [SLICES]: json(200, recorded('kube-endpointslices.json')),
    'GET /api/v1/namespaces/apps/serviceaccounts/web': json(200, recorded('kube-serviceaccount.json')),
    ...overrides,
  };
}

async function cluster(
  overrides: Record<string, KubeResponse> = {},
  options = { namespace: 'apps', serviceAccount: 'web', roleArn: ROLE_ARN },
) {
  const ctx = context({ kubeconfig: 'kc', ...options }, offlineDeps(fakeFetch({})), {
    issuer: ISSUER,
    jwks: JSON.parse(documents(ISSUER).jwks),
    kube: fakeKube(clusterResponses(overrides)),
  });
  return checkCluster(ctx);
}

describe('cluster checks', () => {
  it('pass when kube-apiserver agrees with the issuer, its keys are published, the webhook is installed and the SA annotated', async () => {
    const lines = await cluster();
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['cluster.discovery', 'PASS'],
      ['cluster.jwks', 'PASS'],
      ['cluster.webhook', 'PASS'],
      ['cluster.serviceaccount', 'PASS'],
    ]);
    expect(line(lines, 'cluster.jwks').detail).toContain(`also published: ${EC_KID}`);
  });

  it('fail an apiserver that still signs for another issuer, with the apiserver configure fix', async () => {
    const lines = await cluster({
      'GET /.well-known/openid-configuration': json(200, {
        issuer: 'https://kubernetes.default.svc.cluster.local',
      }),
    });
    expect(line(lines, 'cluster.discovery')).toMatchObject({
      status: 'FAIL',
      fix: expect.stringContaining('irsa-anywhere apiserver configure'),
    });
  });

  it('fail an apiserver key that is not published', async () => {
    const lines = await cluster({
      'GET /openid/v1/jwks': json(200, { keys: [{ kid: 'local-only-key' }, { kid: RSA_KID }] }),
    });
    expect(line(lines, 'cluster.jwks')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining('local-only-key'),
    });
  });

  it('fail a cluster without the webhook, with the install command', async () => {
    const lines = await cluster({
      'GET /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations': json(
        200,
        recorded('kube-webhooks-none.json'),
      ),
    });
    expect(line(lines, 'cluster.webhook')).toMatchObject({
      status: 'FAIL',
      fix: expect.stringContaining('irsa-anywhere webhook manifests'),
    });
  });

  it('fail the webhook with an empty caBundle, or when its service has no ready endpoint', async () => {
    const hooks = recorded<{ items: Array<{ webhooks: Array<{ clientConfig: { caBundle?: string } }> }> }>(
      'kube-webhooks.json',
    );
    const empty = structuredClone(hooks);
    const hook = empty.items[1]?.webhooks[0];
    if (hook !== undefined) hook.clientConfig.caBundle = '';
    let lines = await cluster({ [WEBHOOKS]: json(200, empty) });
    expect(line(lines, 'cluster.webhook')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining('empty caBundle'),
      fix: expect.stringContaining('cert-manager'),
    });
    const notReady = recorded<{ items: Array<{ endpoints: Array<{ conditions: { ready: boolean } }> }> }>(
      'kube-endpointslices.json',
    );
    const endpoint = notReady.items[0]?.endpoints[0];
    if (endpoint !== undefined) endpoint.conditions.ready = false;
    for (const slices of [notReady, { kind: 'EndpointSliceList', items: [] }]) {
      lines = await cluster({ [SLICES]: json(200, slices) });
      expect(line(lines, 'cluster.webhook')).toMatchObject({
        status: 'FAIL',
        detail: expect.stringContaining('irsa-system/pod-identity-webhook'),
        fix: expect.stringContaining('kubectl -n irsa-system describe deployment pod-identity-webhook'),
      });
      expect(line(lines, 'cluster.webhook').detail).toContain('no ready endpoint');
    }
    lines = await cluster({ [SLICES]: json(403, { message: 'endpointslices is forbidden' }) });
    expect(line(lines, 'cluster.webhook')).toMatchObject({
      status: 'SKIP',
      detail: expect.stringContaining('needs RBAC list on endpointslices'),
    });
    expect(line(await cluster(), 'cluster.webhook').detail).toContain('1 ready endpoint');
  });

  it('fail a service account without the role annotation, or annotated with another role', async () => {
    let lines = await cluster({
      'GET /api/v1/namespaces/apps/serviceaccounts/web': json(
        200,
        recorded('kube-serviceaccount-plain.json'),
      ),
    });
    expect(line(lines, 'cluster.serviceaccount')).toMatchObject({
      status: 'FAIL',
      fix: `kubectl -n apps annotate serviceaccount web eks.amazonaws.com/role-arn=${ROLE_ARN}`,
    });
    lines = await cluster(
      {},
      { namespace: 'apps', serviceAccount: 'web', roleArn: 'arn:aws:iam::111122223333:role/other' },
    );
    expect(line(lines, 'cluster.serviceaccount').status).toBe('FAIL');
    lines = await cluster({ 'GET /api/v1/namespaces/apps/serviceaccounts/web': json(404, {}) });
    expect(line(lines, 'cluster.serviceaccount').fix).toContain('create serviceaccount web');
  });

  it('skip everything without a kubeconfig', async () => {
    const lines = await checkCluster(context({}, offlineDeps(fakeFetch({})), { issuer: ISSUER }));
    expect(lines.every((l) => l.status === 'SKIP' && l.detail.includes('no --kubeconfig'))).toBe(true);
    expect(lines).toHaveLength(4);
  });
});

describe('token.source', () => {
  it('requests a token with the TokenRequest API for the service account and audience', async () => {
    const token = await mintToken({ iss: ISSUER });
    const kube = fakeKube({
      'POST /api/v1/namespaces/apps/serviceaccounts/web/token': json(201, { status: { token } }),
    });
    const ctx = context(
      { kubeconfig: 'kc', namespace: 'apps', serviceAccount: 'web' },
      offlineDeps(fakeFetch({})),
      { kube },
    );
    expect(line(await checkTokenSource(ctx), 'token.source').status).toBe('PASS');
    expect(ctx.token).toBe(token);
    expect(kube.calls[0]?.body).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: ['sts.amazonaws.com'], expirationSeconds: 600 },
    });
  });

  it('skips when RBAC forbids the TokenRequest (naming the rule), and fails when the token file is missing', async () => {
    const kube = fakeKube({
      'POST /api/v1/namespaces/apps/serviceaccounts/web/token': json(
        403,
        recorded('kube-tokenrequest-forbidden.json'),
      ),
    });
    const ctx = context(
      { kubeconfig: 'kc', namespace: 'apps', serviceAccount: 'web' },
      offlineDeps(fakeFetch({})),
      { kube },
    );
    expect(line(await checkTokenSource(ctx), 'token.source')).toMatchObject({
      status: 'SKIP',
      detail: expect.stringContaining('needs RBAC create on serviceaccounts/token in namespace apps'),
    });
    const file = context({ tokenFile: '/nope' }, offlineDeps(fakeFetch({})));
    expect(line(await checkTokenSource(file), 'token.source')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining('ENOENT'),
    });
  });

  it('reads --token from a file, trimming the newline', async () => {
    const token = await mintToken({ iss: ISSUER });
    const ctx = context({ tokenFile: '/t' }, offlineDeps(fakeFetch({}), { '/t': `${token}\n` }));
    expect(line(await checkTokenSource(ctx), 'token.source').status).toBe('PASS');
    expect(ctx.token).toBe(token);
  });
});

describe('kubeconfig', () => {
  const kubeconfig = (user: Record<string, unknown>) =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'admin@c1',
      contexts: [{ name: 'admin@c1', context: { cluster: 'c1', user: 'admin' } }],
      clusters: [
        {
          name: 'c1',
          cluster: {
            server: 'https://10.0.0.1:6443/',
            'certificate-authority-data': Buffer.from('CA PEM').toString('base64'),
          },
        },
      ],
      users: [{ name: 'admin', user }],
    });
  const noFiles = async (file: string): Promise<string> => {
    throw new Error(`unexpected read ${file}`);
  };

  it('reads server, CA and client certificate of the current context', async () => {
    const target = await readKubeconfig(
      kubeconfig({
        'client-certificate-data': Buffer.from('CERT').toString('base64'),
        'client-key-data': Buffer.from('KEY').toString('base64'),
      }),
      '/home/u/.kube',
      noFiles,
    );
    expect(target).toEqual({
      server: 'https://10.0.0.1:6443',
      ca: 'CA PEM',
      clientCert: 'CERT',
      clientKey: 'KEY',
      context: 'admin@c1',
    });
  });

  it('resolves file references relative to the kubeconfig, as kubectl does', async () => {
    const read: string[] = [];
    const target = await readKubeconfig(
      kubeconfig({ tokenFile: 'token.txt' }),
      '/home/u/.kube',
      async (file) => {
        read.push(file);
        return 'abc\n';
      },
    );
    expect(read).toEqual(['/home/u/.kube/token.txt']);
    expect(target.token).toBe('abc');
  });

  it('refuses exec plugins and broken files with codes', async () => {
    await expect(
      readKubeconfig(kubeconfig({ exec: { command: 'aws' } }), '/', noFiles),
    ).rejects.toMatchObject({ code: 'KUBECONFIG_UNSUPPORTED_AUTH' });
    await expect(readKubeconfig('current-context: x', '/', noFiles)).rejects.toMatchObject({
      code: 'KUBECONFIG_INVALID',
    });
    await expect(
      readKubeconfig(kubeconfig({ 'client-certificate-data': 'Q0VSVA==' }), '/', noFiles),
    ).rejects.toThrow(/without its key/);
  });

  it('cluster.kubeconfig passes a usable file and fails a broken one', async () => {
    const deps = { ...offlineDeps(fakeFetch({})), kubeClient: async () => fakeKube({}) };
    expect(
      line(await checkKubeconfig(context({ kubeconfig: 'kc' }, deps)), 'cluster.kubeconfig').status,
    ).toBe('PASS');
    const broken = {
      ...deps,
      kubeClient: async () => readKubeconfig('nope: 1', '/', noFiles).then(() => fakeKube({})),
    };
    expect(
      line(await checkKubeconfig(context({ kubeconfig: 'kc' }, broken)), 'cluster.kubeconfig').status,
    ).toBe('FAIL');
  });
});

describe('createKubeClient', () => {
  it('sends the bearer token and JSON body to the API server', async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"status":{"token":"t"}}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const kube = createKubeClient({ server: `http://127.0.0.1:${port}`, token: 'secret', context: 'x' });
      const response = await kube.request('POST', '/api/v1/namespaces/apps/serviceaccounts/web/token', {
        a: 1,
      });
      expect(response).toEqual({ status: 201, body: '{"status":{"token":"t"}}' });
      expect(seen).toEqual([
        {
          method: 'POST',
          url: '/api/v1/namespaces/apps/serviceaccounts/web/token',
          auth: 'Bearer secret',
          body: '{"a":1}',
        },
      ]);
    } finally {
      server.close();
    }
  });
});

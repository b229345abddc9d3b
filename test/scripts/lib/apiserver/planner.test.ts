/** Planner rules the golden fixtures do not show on their own. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isIrsaError } from '#core/errors.ts';
import { planApiserver } from '#scripts/lib/apiserver/index.ts';
import { normalizeSettings } from '#scripts/lib/apiserver/settings.ts';
import { kmsRequirement, parseKubeVersion, versionFromImage } from '#scripts/lib/apiserver/version.ts';
import { restoreLineFormatting } from '#scripts/lib/apiserver/yaml-doc.ts';

const REAL = readFileSync(
  join(import.meta.dirname, '../../../fixtures/apiserver/kubeadm-real-1.34-kms.in.yaml'),
  'utf8',
);
const ISSUER = 'https://oidc.example.com/prod';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isIrsaError(error) ? error.code : 'NOT_IRSA';
  }
  return undefined;
}

describe('settings', () => {
  it('always adds sts.amazonaws.com and normalises paths', () => {
    const settings = normalizeSettings({
      issuer: ISSUER,
      mode: 'file',
      keyDir: '/etc/irsa//keys/',
      audiences: ['vault', ' '],
    });
    expect(settings.audiences).toEqual(['sts.amazonaws.com', 'vault']);
    expect(settings.keyDir).toBe('/etc/irsa/keys');
  });

  it('rejects bad flags with the flag named', () => {
    expect(codeOf(() => normalizeSettings({ issuer: `${ISSUER}/` }))).toBe('ISSUER_TRAILING_SLASH');
    expect(codeOf(() => normalizeSettings({ issuer: ISSUER, mode: 'hsm' }))).toBe('FLAG_INVALID');
    expect(codeOf(() => normalizeSettings({ issuer: ISSUER, keyDir: 'relative/keys' }))).toBe('FLAG_INVALID');
    expect(codeOf(() => normalizeSettings({ issuer: ISSUER, signerSocket: '/run/a b.sock' }))).toBe(
      'FLAG_INVALID',
    );
    expect(codeOf(() => normalizeSettings({ issuer: ISSUER, audiences: ['a,b'] }))).toBe('FLAG_INVALID');
    expect(codeOf(() => normalizeSettings({ issuer: ISSUER, kubernetesVersion: 'latest' }))).toBe(
      'FLAG_INVALID',
    );
  });

  it('--kubernetes-version is parsed once into a KubeVersion the planners use as is', () => {
    expect(normalizeSettings({ issuer: ISSUER, kubernetesVersion: 'v1.33.2' }).kubernetesVersion).toEqual({
      major: 1,
      minor: 33,
      text: 'v1.33.2',
    });
  });
});

describe('versions', () => {
  it('reads the tag of an image reference', () => {
    expect(versionFromImage('registry.k8s.io/kube-apiserver:v1.33.1')).toMatchObject({ major: 1, minor: 33 });
    expect(versionFromImage('localhost:5000/kube-apiserver:v1.34.0@sha256:abc')).toMatchObject({ minor: 34 });
    expect(versionFromImage('localhost:5000/kube-apiserver')).toBeNull();
    expect(parseKubeVersion('stable-1.32')).toMatchObject({ minor: 32 });
  });

  it('kms mode: none needed from 1.34, the gate on 1.32-1.33, an error before', () => {
    expect(kmsRequirement(parseKubeVersion('v1.34.0'))).toBe('none');
    expect(kmsRequirement(parseKubeVersion('v1.32.9'))).toBe('gate');
    expect(kmsRequirement(null)).toBe('unknown');
    expect(codeOf(() => kmsRequirement(parseKubeVersion('v1.31.0')))).toBe('APISERVER_VERSION_UNSUPPORTED');
  });
});

describe('kubeadm planner', () => {
  it('reports the version it could not read and sets no gate', () => {
    const text = REAL.replace('kube-apiserver:v1.34.1', 'kube-apiserver@sha256:0123');
    const plan = planApiserver('kubeadm', text, normalizeSettings({ issuer: ISSUER }));
    expect(plan.notes.join('\n')).toContain('Could not read the Kubernetes version');
    expect(plan.text).not.toContain('feature-gates');
  });

  it('switches from kms to file mode by dropping its own signer volume and endpoint', () => {
    const kms = planApiserver('kubeadm', REAL, normalizeSettings({ issuer: ISSUER, mode: 'kms' })).text;
    const file = planApiserver('kubeadm', kms, normalizeSettings({ issuer: ISSUER, mode: 'file' }));
    expect(file.text).not.toContain('signing-endpoint');
    expect(file.text).not.toContain('irsa-anywhere-signer');
    expect(file.text).toContain('irsa-anywhere-keys');
  });

  it('needs no mount for an abstract socket', () => {
    const plan = planApiserver(
      'kubeadm',
      REAL,
      normalizeSettings({ issuer: ISSUER, signerSocket: '@irsa-signer' }),
    );
    expect(plan.text).toContain('--service-account-signing-endpoint=@irsa-signer');
    expect(plan.changes.some((c) => c.target.startsWith('volume:'))).toBe(false);
  });

  it('reuses an existing hostPath mount that covers the key directory', () => {
    const settings = normalizeSettings({ issuer: ISSUER, mode: 'file', keyDir: '/etc/kubernetes/pki/irsa' });
    const plan = planApiserver('kubeadm', REAL, settings);
    expect(plan.changes.some((c) => c.target.startsWith('volume:'))).toBe(false);
  });

  it('keeps a hand-set signing key verifying when no key files were listed', () => {
    const text = REAL.replace('    - --service-account-key-file=/etc/kubernetes/pki/sa.pub\n', '');
    const plan = planApiserver('kubeadm', text, normalizeSettings({ issuer: ISSUER, mode: 'file' }));
    expect(plan.text).toContain('- --service-account-key-file=/etc/kubernetes/pki/sa.key');
  });
});

describe('list forms', () => {
  const file = normalizeSettings({ issuer: ISSUER, mode: 'file' });

  it('k3s: a single-string kube-apiserver-arg becomes a list, a flow list stays a flow list', () => {
    const single = planApiserver('k3s', 'kube-apiserver-arg: "audit-log-maxage=30"\n', file).text;
    expect(single).toContain('kube-apiserver-arg:\n  - audit-log-maxage=30\n  - service-account-issuer=');
    const flow = planApiserver('k3s', 'kube-apiserver-arg: ["audit-log-maxage=30"]\n', file);
    expect(flow.text).toMatch(/^kube-apiserver-arg: \[ "audit-log-maxage=30", "service-account-issuer=/);
    expect(planApiserver('k3s', flow.text, file).changes).toEqual([]);
  });

  it('repeated entries: every existing issuer and key file is kept once, in order', () => {
    const text = REAL.replace(
      '    - --service-account-issuer=https://kubernetes.default.svc.cluster.local\n',
      '    - --service-account-issuer=https://a.example.com\n    - --service-account-issuer=https://b.example.com\n    - --service-account-issuer=https://a.example.com\n',
    );
    const plan = planApiserver('kubeadm', text, file);
    const issuers = plan.text.match(/--service-account-issuer=\S+/g);
    expect(issuers).toEqual([
      `--service-account-issuer=${ISSUER}`,
      '--service-account-issuer=https://a.example.com',
      '--service-account-issuer=https://b.example.com',
    ]);
  });

  it('moves the new issuer to the front when it was listed second by hand', () => {
    const text = REAL.replace(
      '    - --service-account-issuer=https://kubernetes.default.svc.cluster.local\n',
      `    - --service-account-issuer=https://kubernetes.default.svc.cluster.local\n    - --service-account-issuer=${ISSUER}\n`,
    );
    const plan = planApiserver('kubeadm', text, file);
    expect(plan.text.match(/--service-account-issuer=\S+/g)?.[0]).toBe(`--service-account-issuer=${ISSUER}`);
    expect(planApiserver('kubeadm', plan.text, file).changes).toEqual([]);
  });

  it('a managed flag split over two list items is an error, not a guess', () => {
    const text = REAL.replace(
      '    - --service-account-issuer=https://kubernetes.default.svc.cluster.local\n',
      '    - --service-account-issuer\n    - https://kubernetes.default.svc.cluster.local\n',
    );
    expect(codeOf(() => planApiserver('kubeadm', text, file))).toBe('APISERVER_CONFIG_INVALID');
  });
});

describe('formatting restore', () => {
  it('puts back original spacing only when the YAML means the same', () => {
    expect(restoreLineFormatting('a: {x: 1}   # c\n', 'a: { x: 1 } # c\nb: 2\n')).toBe(
      'a: {x: 1}   # c\nb: 2\n',
    );
    // Same canonical line, different meaning inside a quoted scalar: keep the printer's output.
    expect(restoreLineFormatting('a: "x  y"\n', 'a: "x y"\n')).toBe('a: "x y"\n');
  });
});

/**
 * Issue 14 item 12 (the parts done here) and the `trust-policy --json` feature.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isIrsaError } from '#core/errors.ts';
import { register as registerApiserver } from '#scripts/commands/apiserver.ts';
import { register as registerSigner } from '#scripts/commands/signer.ts';
import { DISTROS, planApiserver } from '#scripts/lib/apiserver/index.ts';
import { normalizeSettings } from '#scripts/lib/apiserver/settings.ts';
import { enableHint } from '#scripts/lib/signer/install-unit.ts';
import { runCli, runRegistered } from '../../support/run-cli.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/apiserver');
const ETCD_POD = `apiVersion: v1
kind: Pod
metadata:
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://10.0.0.10:2379
    - --data-dir=/var/lib/etcd
    image: registry.k8s.io/etcd:3.5.21-0
    name: etcd
  hostNetwork: true
`;

describe('12. accepted but wrong', () => {
  it('signer install --bin relative/path is refused: systemd needs an absolute ExecStart', async () => {
    const result = await runCli(
      'signer',
      'install',
      '--distro',
      'kubeadm',
      '--backend',
      'kms',
      '--state',
      's3://state-bucket/keyset.json',
      '--region',
      'eu-west-1',
      '--bin',
      'relative/path',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error FLAG_INVALID: --bin relative\/path is not an absolute path/m);
    expect(result.stdout).not.toMatch(/ExecStart=relative/);
  });
});

describe('12. accepted but wrong: the file given is not the one the distro reads', () => {
  it('an etcd Pod manifest is refused by every distro, in both modes', () => {
    for (const distro of DISTROS) {
      for (const mode of ['kms', 'file']) {
        let caught: unknown;
        try {
          planApiserver(
            distro,
            ETCD_POD,
            normalizeSettings({ issuer: 'https://oidc.example.com/prod', mode }),
          );
        } catch (error) {
          caught = error;
        }
        expect(isIrsaError(caught), `${distro} ${mode} accepted an etcd Pod`).toBe(true);
      }
    }
  });

  it('apiserver configure --distro k3s --file <etcd pod> is one clear line, and the file is unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irsa-etcd-'));
    const file = join(dir, 'etcd.yaml');
    await writeFile(file, ETCD_POD);
    for (const distro of ['k3s', 'rke2']) {
      const result = await runRegistered(registerApiserver, [
        'apiserver',
        'configure',
        '--distro',
        distro,
        '--mode',
        'file',
        '--issuer',
        'https://oidc.example.com/prod',
        '--file',
        file,
        '--skip-preflight',
        '--backup-dir',
        join(dir, 'b'),
      ]);
      expect(result.code).toBe(1);
      expect(result.err).toMatch(
        new RegExp(
          `^error APISERVER_CONFIG_INVALID: the ${distro} config.yaml: the file is a Kubernetes Pod "etcd" manifest, not a ${distro} config.yaml`,
        ),
      );
      expect(result.err.split('\n')).toHaveLength(1);
    }
    const kubeadm = planError('kubeadm', ETCD_POD);
    expect(kubeadm).toMatch(/no kube-apiserver container \(it runs etcd: not kube-apiserver\)/);
    expect(await readFile(file, 'utf8')).toBe(ETCD_POD);
  });

  it('a kubeadm manifest without image: is refused unless --kubernetes-version says the version', async () => {
    const real = await readFile(join(FIXTURES, 'kubeadm-real-1.34-kms.in.yaml'), 'utf8');
    const noImage = real.replace(/^ {4}image: .*\n/m, '');
    expect(noImage).not.toContain('image:');
    for (const mode of ['kms', 'file']) {
      expect(planError('kubeadm', noImage, { mode })).toMatch(/^APISERVER_VERSION_UNKNOWN: .*has no image:/);
      const plan = planApiserver(
        'kubeadm',
        noImage,
        normalizeSettings({ issuer: 'https://oidc.example.com/prod', mode, kubernetesVersion: 'v1.33.2' }),
      );
      expect(plan.changes.length).toBeGreaterThan(0);
      if (mode === 'kms') expect(plan.text).toContain('ExternalServiceAccountTokenSigner=true');
    }
  });
});

function planError(distro: 'kubeadm', text: string, extra: { mode?: string } = {}): string {
  try {
    planApiserver(distro, text, normalizeSettings({ issuer: 'https://oidc.example.com/prod', ...extra }));
  } catch (error) {
    return isIrsaError(error) ? `${error.code}: ${error.message}` : String(error);
  }
  return 'accepted';
}

describe('12c. signer install --write F suggests enabling the unit F names', () => {
  const KMS = ['--backend', 'kms', '--state', 's3://irsa-state-prod/keyset.json', '--region', 'eu-west-1'];
  const install = (...extra: string[]) =>
    runRegistered(registerSigner, [
      'signer',
      'install',
      '--distro',
      'kubeadm',
      ...KMS,
      '--no-extra-public-keys',
      ...extra,
    ]);

  it('names the written unit (by path outside the unit directories), and refuses a name systemd would not load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irsa-unit-'));
    const unit = join(dir, 'my-signer.service');
    const result = await install('--write', unit);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toContain(`next: systemctl daemon-reload && systemctl enable --now ${unit}`);
    expect(result.out).not.toContain('irsa-anywhere-signer.service');
    const bad = await install('--write', join(dir, 'signer.conf'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(
      /^error FLAG_INVALID: --write .*signer\.conf: systemd loads a service only from a file named <name>\.service/,
    );
    expect(enableHint('/etc/systemd/system/custom-signer.service')).toBe(
      'systemctl daemon-reload && systemctl enable --now custom-signer.service',
    );
  });
});

describe('trust-policy --json', () => {
  it('prints the provider ARN, the policy, its length and the create-role command as one JSON object', async () => {
    const result = await runCli(
      'trust-policy',
      '--issuer',
      'https://oidc.example.com/prod',
      '--account-id',
      '111122223333',
      '--namespace',
      'apps',
      '--service-account',
      'web',
      '--role-name',
      'web-s3',
      '--json',
    );
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.providerArn).toBe('arn:aws:iam::111122223333:oidc-provider/oidc.example.com/prod');
    expect(out.policy.Statement[0].Condition.StringEquals['oidc.example.com/prod:sub']).toBe(
      'system:serviceaccount:apps:web',
    );
    expect(out.characters).toBe(JSON.stringify(out.policy).length);
    expect(out.createRoleCommand).toMatch(/^aws iam create-role --role-name 'web-s3'/);
  });
});

/**
 * Issue 14 items 6 and 7: the kube-apiserver flags `npm start` prints must be flags kube-apiserver
 * accepts (it refuses an http --service-account-jwks-uri: "service-account-jwks-uri requires https
 * scheme"), and the kind + local flow of docs/signer.md must configure end to end with the local
 * (http, loopback) issuer.
 */
import { copyFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { printLocalWelcome } from '#scripts/commands/local.ts';
import { type RunningLocalIssuer, startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { runCli } from '../../support/run-cli.ts';

/** The rules kube-apiserver 1.32–1.36 applies to the service-account flags at start. */
function kubeApiserverRefuses(flags: Map<string, string[]>): string[] {
  const problems: string[] = [];
  for (const uri of flags.get('service-account-jwks-uri') ?? []) {
    if (!uri.startsWith('https://')) problems.push('service-account-jwks-uri requires https scheme');
  }
  const endpoint = flags.has('service-account-signing-endpoint');
  if (endpoint && (flags.has('service-account-key-file') || flags.has('service-account-signing-key-file'))) {
    problems.push('service-account-signing-endpoint cannot be combined with key files');
  }
  if ((flags.get('service-account-issuer') ?? []).length === 0)
    problems.push('service-account-issuer is required');
  return problems;
}

function flagsOf(lines: string[]): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (const line of lines) {
    const match = /^\s*-?\s*--([a-z-]+)=(.*)$/.exec(line);
    if (match === null) continue;
    const [, name = '', value = ''] = match;
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return flags;
}

let dir: string;
let issuer: RunningLocalIssuer;
beforeAll(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'irsa-kind-')), 'state');
  issuer = await startLocalIssuer({ dir, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await issuer?.close();
});

describe('6. the flags npm start prints', () => {
  it('are flags kube-apiserver accepts', async () => {
    const out: string[] = [];
    await printLocalWelcome({ out: (s) => out.push(s), err: () => undefined }, dir, issuer);
    const flags = flagsOf(out.join('\n').split('\n'));
    expect(flags.get('service-account-issuer')).toEqual([issuer.issuer]);
    expect(kubeApiserverRefuses(flags)).toEqual([]);
    // One socket in the printed signer command, kind config command and flag, and one a non-root
    // user can create (a default under /run failed with "UNEXPECTED: EACCES").
    const text = out.join('\n');
    const socket = flags.get('service-account-signing-endpoint')?.[0] ?? '';
    expect(socket).not.toMatch(/^\/run\//);
    expect(text).toContain(`signer serve --backend local --dir ${dir} --socket ${socket}`);
    expect(text).toContain(
      `apiserver configure --distro kind --issuer ${issuer.issuer} --signer-socket ${socket}`,
    );
  });
});

describe('7. the kind + local flow', () => {
  it('apiserver configure --distro kind takes the local issuer and writes accepted flags and the socket mount', async () => {
    const result = await runCli(
      'apiserver',
      'configure',
      '--distro',
      'kind',
      '--issuer',
      issuer.issuer,
      '--signer-socket',
      '/tmp/irsa-kind/signer.sock',
    );
    expect(result.code, result.stderr).toBe(0);
    const config = parse(result.stdout) as {
      nodes: Array<{ extraMounts: Array<{ hostPath: string; containerPath: string }> }>;
      kubeadmConfigPatches: string[];
    };
    expect(config.nodes[0]?.extraMounts).toContainEqual(
      expect.objectContaining({ hostPath: '/tmp/irsa-kind', containerPath: '/tmp/irsa-kind' }),
    );
    const patch = parse(config.kubeadmConfigPatches[0] ?? '') as {
      apiServer: { extraArgs: Record<string, string> };
    };
    const args = new Map(Object.entries(patch.apiServer.extraArgs).map(([k, v]) => [k, [v]]));
    expect(args.get('service-account-issuer')).toEqual([issuer.issuer]);
    expect(kubeApiserverRefuses(args)).toEqual([]);
  });

  it('the copied kubeadm manifest of the kind node switches to the signer with the local issuer', async () => {
    const work = await mkdtemp(join(tmpdir(), 'irsa-kind-node-'));
    const manifest = join(work, 'kube-apiserver.yaml');
    await copyFile(
      resolve(import.meta.dirname, '../../fixtures/apiserver/kubeadm-audiences-present.in.yaml'),
      manifest,
    );
    const result = await runCli(
      'apiserver',
      'configure',
      '--distro',
      'kubeadm',
      '--mode',
      'kms',
      '--issuer',
      issuer.issuer,
      '--signer-socket',
      '/tmp/irsa-kind/signer.sock',
      '--file',
      manifest,
      '--skip-preflight',
      // A fresh laptop cluster: the node's sa.pub stays inside the kind node, nothing old to keep.
      '--allow-dropping-old-tokens',
      '--backup-dir',
      join(work, 'backups'),
    );
    expect(result.code, result.stderr).toBe(0);
    const pod = parse(await readFile(manifest, 'utf8')) as {
      spec: { containers: Array<{ command: string[] }> };
    };
    const flags = flagsOf(pod.spec.containers[0]?.command ?? []);
    expect(flags.get('service-account-issuer')?.[0]).toBe(issuer.issuer);
    expect(flags.get('service-account-signing-endpoint')).toEqual(['/tmp/irsa-kind/signer.sock']);
    expect(kubeApiserverRefuses(flags)).toEqual([]);
  });

  it('a loopback http issuer is still refused where AWS must reach it, with advice that can be followed', async () => {
    const kubeadm = await runCli(
      'apiserver',
      'configure',
      '--distro',
      'k3s',
      '--issuer',
      'http://127.0.0.1:8900',
      '--dry-run',
    );
    expect(kubeadm.code).toBe(2);
    expect(kubeadm.stderr).not.toMatch(/https:\/\/127\.0\.0\.1/);
  });
});

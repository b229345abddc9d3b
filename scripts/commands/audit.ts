/**
 * `irsa-anywhere audit`: every ServiceAccount annotated with a role, every pod using one, and every
 * such pod the pod identity webhook did not mutate, with the reason. Exit 1 when any pod would run
 * without its role (or another error was found). `--print-rbac` prints the read-only RBAC it needs.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { IAMClient } from '@aws-sdk/client-iam';
import type { Command } from 'commander';
import { IrsaError } from '#core/errors.ts';
import { validateIssuerUrl } from '#core/issuer.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import type { Register } from '../cli.ts';
import { collectAudit, type TlsPeerFetch } from '../lib/audit/collect.ts';
import { evaluateAudit } from '../lib/audit/evaluate.ts';
import { formatAudit } from '../lib/audit/format.ts';
import { resolveKubeTarget } from '../lib/audit/kube-target.ts';
import { auditRbacYaml } from '../lib/audit/rbac.ts';
import { tlsPeerFetch } from '../lib/audit/tls-peer.ts';
import { trustFindings } from '../lib/audit/trust.ts';
import { cliAws } from '../lib/aws-clients.ts';
import { ExitCode, type Io, printJson, runCommand } from '../lib/cli-support.ts';
import { createKubeClient, type KubeClient } from '../lib/doctor/kube-client.ts';

interface AuditFlags {
  kubeconfig?: string;
  audience?: string[];
  trust?: boolean;
  issuer?: string;
  region?: string;
  json?: boolean;
  printRbac?: boolean;
  webhookNamespace: string;
}

/** What the command reaches outside the process through; injected by tests. */
export interface AuditDeps {
  kube: (kubeconfig: string | undefined) => Promise<KubeClient>;
  now: () => Date;
  iam: (region: string | undefined) => Pick<IAMClient, 'send'>;
  tlsPeer?: TlsPeerFetch;
  /** Progress lines while listing (a TTY status line), or undefined for none. */
  progress?: (text: string) => void;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

async function kubeIssuer(kube: KubeClient): Promise<string> {
  const response = await kube.request('GET', '/.well-known/openid-configuration');
  let issuer: unknown;
  try {
    issuer = (JSON.parse(response.body) as { issuer?: unknown }).issuer;
  } catch {
    issuer = undefined;
  }
  if (response.status !== 200 || typeof issuer !== 'string') {
    throw new IrsaError(
      'FLAG_MISSING',
      `--trust needs the issuer, and kube-apiserver's discovery answered HTTP ${response.status}.`,
      'Pass --issuer https://<your issuer>.',
    );
  }
  return issuer;
}

async function audit(flags: AuditFlags, io: Io, deps: AuditDeps): Promise<void> {
  if (flags.printRbac === true) {
    io.out(auditRbacYaml({ webhookNamespace: flags.webhookNamespace }));
    return;
  }
  const accepted = flags.audience ?? [DEFAULT_AUDIENCE];
  if (flags.issuer !== undefined) validateIssuerUrl(flags.issuer);
  const kube = await deps.kube(flags.kubeconfig);
  const input = await collectAudit(
    {
      kube,
      now: deps.now,
      ...(deps.tlsPeer === undefined ? {} : { tlsPeer: deps.tlsPeer }),
      ...(deps.progress === undefined || flags.json === true ? {} : { progress: deps.progress }),
    },
    accepted,
  );
  const report = evaluateAudit(input);
  if (flags.trust === true) {
    const issuer = flags.issuer ?? (await kubeIssuer(kube));
    report.findings.push(...(await trustFindings(deps.iam(flags.region), issuer, input.serviceAccounts)));
    report.ok = !report.findings.some((f) => f.severity === 'error');
  }
  if (flags.json === true) printJson(io, report);
  else io.out(formatAudit(report));
  if (!report.ok) throw new ExitCode(1);
}

/** Builds the command; `makeDeps` is injected by tests. */
export function registerAudit(makeDeps: () => AuditDeps): Register {
  return (program: Command, io: Io, setExit) => {
    program
      .command('audit')
      .description(
        'List IRSA service accounts and their pods, and every pod the pod identity webhook did not mutate, with the reason.',
      )
      .option(
        '--kubeconfig <file>',
        'kubeconfig (default: $KUBECONFIG, in-cluster credentials, ~/.kube/config)',
      )
      .option(
        '--audience <aud>',
        'an accepted token audience (repeatable; default sts.amazonaws.com)',
        collect,
      )
      .option('--trust', "with AWS credentials: check each role's trust policy admits its service accounts")
      .option('--issuer <url>', "issuer for --trust (default: kube-apiserver's discovery document)")
      .option('--region <region>', 'AWS region for --trust (IAM is global; default from the environment)')
      .option('--json', 'print the report as JSON')
      .option('--print-rbac', 'print the read-only ClusterRole the audit needs, and exit')
      .option('--webhook-namespace <ns>', 'namespace of the webhook (for --print-rbac)', 'irsa-system')
      .action(async (flags: AuditFlags) => {
        setExit(await runCommand(io, () => audit(flags, io, makeDeps()), { json: flags.json }));
      });
  };
}

/** A status line on stderr, rewritten in place; only when stderr is a terminal. */
function ttyProgress(): ((text: string) => void) | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  return (text) => process.stderr.write(text === '' ? '\r\x1b[K' : `\r\x1b[K${text}…`);
}

/** `irsa-anywhere audit` with the real cluster, clock and AWS. */
export const register: Register = registerAudit(() => {
  const inCluster = (process.env.KUBERNETES_SERVICE_HOST ?? '') !== '';
  const progress = ttyProgress();
  return {
    kube: async (kubeconfig) =>
      createKubeClient(
        await resolveKubeTarget({
          ...(kubeconfig === undefined ? {} : { kubeconfig }),
          env: process.env,
          home: homedir(),
          readFile: (file) => readFile(file, 'utf8'),
        }),
      ),
    now: () => new Date(),
    iam: (region) => cliAws('audit --trust', { flag: region }).client(IAMClient, {}, { global: true }),
    // Service DNS names resolve only inside the cluster.
    ...(inCluster ? { tlsPeer: tlsPeerFetch() } : {}),
    ...(progress === undefined ? {} : { progress }),
  };
});

/**
 * Test helpers for the audit: a recorded case (test/fixtures/audit/<case>.json over cluster.json)
 * turned into a fake kube client, a fake IAM client and the `audit` command's injected deps.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { AuditDeps } from '#scripts/commands/audit.ts';
import type { KubeClient, KubeResponse } from '#scripts/lib/doctor/kube-client.ts';

const dir = new URL('../../../fixtures/audit/', import.meta.url);
const read = (name: string): unknown => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));

/** One recorded case. */
export interface AuditCase {
  name: string;
  case: string;
  now: string;
  flags: string[];
  responses: Record<string, Record<string, unknown>>;
  iam: Record<string, unknown>;
  expect: { ok: boolean; pods: Record<string, string[]>; findings?: Array<[string, string]> };
}

/** Every case file (all but the base). */
export function caseNames(): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'cluster.json')
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

/** A case merged over its base. */
export function loadCase(name: string): AuditCase {
  const doc = read(`${name}.json`) as Partial<AuditCase> & { base?: string };
  const base = (doc.base === undefined ? { responses: {} } : read(doc.base)) as {
    now?: string;
    responses: AuditCase['responses'];
  };
  return {
    name,
    case: doc.case ?? name,
    now: doc.now ?? base.now ?? '2026-12-15T00:00:00Z',
    flags: doc.flags ?? [],
    responses: { ...base.responses, ...doc.responses },
    iam: doc.iam ?? {},
    expect: doc.expect as AuditCase['expect'],
  };
}

/** A kube client answering GETs from `responses` by path (the `limit`/`continue` query ignored). */
export function recordedKube(responses: AuditCase['responses']): KubeClient & { paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    request: async (_method, path): Promise<KubeResponse> => {
      paths.push(path);
      const found = responses[path.split('?')[0] ?? path];
      if (found === undefined)
        return {
          status: 404,
          body: JSON.stringify({
            kind: 'Status',
            code: 404,
            message: 'the server could not find the requested resource',
          }),
        };
      const { __status, ...body } = found;
      return { status: typeof __status === 'number' ? __status : 200, body: JSON.stringify(body) };
    },
  };
}

/** An IAM client answering GetRole from the case's `iam` map (a recorded file, or an error). */
export function recordedIam(iam: AuditCase['iam']): Pick<IAMClient, 'send'> & { calls: string[] } {
  const calls: string[] = [];
  const send = async (command: { input: { RoleName?: string } }) => {
    const name = command.input.RoleName ?? '';
    calls.push(name);
    const entry = iam[name];
    if (typeof entry === 'string') return read(entry);
    const error = entry as { __error?: string; message?: string } | undefined;
    throw Object.assign(new Error(error?.message ?? `The role with name ${name} cannot be found.`), {
      name: error?.__error ?? 'NoSuchEntityException',
    });
  };
  return { calls, send: send as unknown as Pick<IAMClient, 'send'>['send'] };
}

/** The command's deps for a case. */
export function caseDeps(c: AuditCase, extra: Partial<AuditDeps> = {}): AuditDeps {
  const kube = recordedKube(c.responses);
  const iam = recordedIam(c.iam);
  return { kube: async () => kube, now: () => new Date(c.now), iam: () => iam, ...extra };
}

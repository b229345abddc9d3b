/**
 * Runs `serverless package` (osls, offline, dummy credentials) into a temporary directory and
 * reads what it produced: the CloudFormation template and the function zips. Slow (~20 s): the
 * tests call it once per variant in a beforeAll.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readZip as readZipEntries } from '#scripts/lib/bench/zip.ts';

/** A CloudFormation template, loosely typed. */
export interface Template {
  Parameters: Record<string, { Default?: string; AllowedPattern?: string; AllowedValues?: string[] }>;
  Conditions: Record<string, unknown>;
  Rules?: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown; Condition?: string }>;
}

export interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  Properties: Record<string, unknown>;
}

export interface Packaged {
  dir: string;
  template: Template;
  templatePath: string;
  zipPath(fn: 'rotate' | 'bootstrap'): string;
}

const LOCK = join(tmpdir(), 'irsa-anywhere-serverless-package.lock');

/**
 * Serverless builds in the shared `.esbuild/` folder and hands the zips over through the shared
 * `.serverless/` folder (serverless-esbuild's moveArtifacts): one packaging at a time across test
 * files. Six variants queue here, so a waiting file may wait for five others on a slow machine.
 */
function withLock<T>(work: () => T): T {
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 300_000) rmSync(LOCK, { recursive: true, force: true }); // left by a killed run
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    return work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/**
 * Packages the stack with the given serverless params (and `config`, e.g. `serverless.fleet.yml`).
 * Throws with serverless' output on failure.
 */
export function packageStack(params: Record<string, string> = {}, config?: string): Packaged {
  return withLock(() => packageUnlocked(params, config));
}

function packageUnlocked(params: Record<string, string>, config: string | undefined): Packaged {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-package-'));
  const args = ['serverless', 'package', '--stage', 'test', '--package', dir];
  if (config !== undefined) args.push('--config', config);
  for (const [key, value] of Object.entries(params)) args.push(`--param=${key}=${value}`);
  const result = spawnSync('npx', args, {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', SLS_TELEMETRY_DISABLED: '1' },
  });
  if (result.status !== 0) {
    throw new Error(`serverless package failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  const templatePath = join(dir, 'cloudformation-template-update-stack.json');
  return {
    dir,
    templatePath,
    template: JSON.parse(readFileSync(templatePath, 'utf8')) as Template,
    zipPath: (fn) => join(dir, `${fn}.zip`),
  };
}

/** The entries of a function zip, by name (reader shared with the bench). */
export function readZip(path: string): Map<string, Buffer> {
  return new Map(readZipEntries(readFileSync(path)).map((entry) => [entry.name, entry.data]));
}

type Statement = {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** Every statement of a policy document, with `Fn::If` expanded to both branches. */
export function statements(document: unknown): Statement[] {
  const list = (document as { Statement: unknown[] }).Statement;
  const out: Statement[] = [];
  const visit = (item: unknown): void => {
    if (item === null || typeof item !== 'object') return;
    const record = item as Record<string, unknown>;
    if ('Fn::If' in record) {
      const [, yes, no] = record['Fn::If'] as unknown[];
      visit(yes);
      visit(no);
      return;
    }
    if ('Ref' in record) return; // AWS::NoValue
    out.push(record as Statement);
  };
  for (const item of list) visit(item);
  return out;
}

/** A statement's actions as an array. */
export function actions(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

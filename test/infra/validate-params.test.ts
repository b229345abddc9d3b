/**
 * `serverless package` refuses bad params before building anything (infra/plugins/validate-params.cjs):
 * each case runs the real CLI offline and must exit non-zero with one line naming the param.
 * The plugin stops before the build, so these runs do not take the packaging lock; a few run at once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const CASES: Array<[string, string, RegExp]> = [
  ['keyDeletionWindowDays=3', 'keyDeletionWindowDays', /from 7 to 30/],
  ['publishLeadHours=0.1', 'publishLeadHours', /Raise publishLeadHours to at least 0\.4/],
  ['rotationPeriodDays=1', 'rotationPeriodDays', /must be shorter than rotationPeriodDays/],
  ['maxTokenLifetimeSeconds=300', 'maxTokenLifetimeSeconds', /at least 600/],
  ['pathPrefix=/team/..', 'pathPrefix', /without "\." or "\.\." segments/],
  ['keyMode=bogus', 'keyMode', /one of kms, file/],
  ['pathPrefix=/prod/', 'pathPrefix', /NOT ending with \//],
  ['rotationPeriodDays=abc', 'rotationPeriodDays', /a positive number of days/],
  ['keymode=file', 'keymode', /did you mean keyMode\?\). Known params: clusterName, keyMode/],
];

interface Run {
  status: number | null;
  output: string;
  dir: string;
}

function serverless(command: 'package' | 'deploy', param: string): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-bad-param-'));
  const args = ['serverless', command, '--stage', 'test', `--param=${param}`];
  if (command === 'package') args.push('--package', dir);
  // Dummy credentials and no network: a deploy that got past the check would fail differently.
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    SLS_TELEMETRY_DISABLED: '1',
  };
  return new Promise((resolve) => {
    const child = spawn('npx', args, { env, timeout: 240_000 });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      output += String(chunk);
    });
    child.on('close', (status) => resolve({ status, output, dir }));
  });
}

const runs = new Map<string, Run>();

beforeAll(async () => {
  const queue: Array<['package' | 'deploy', string]> = [
    ['deploy', 'keymode=file'],
    ...CASES.map(([param]) => ['package', param] as ['package', string]),
  ];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      runs.set(`${next[0]} ${next[1]}`, await serverless(...next));
    }
  };
  await Promise.all([worker(), worker(), worker()]);
}, 600_000);

describe('serverless package refuses bad params before building', () => {
  it.each(CASES)('--param=%s exits non-zero naming %s', (param, name, allowed) => {
    const run = runs.get(`package ${param}`);
    expect(run, param).toBeDefined();
    expect(run?.status, run?.output).not.toBe(0);
    const lines = (run?.output ?? '').split('\n');
    const error = lines[lines.findIndex((line) => line.trim() === 'Error:') + 1] ?? '';
    expect(error).toContain(name);
    expect(error).toMatch(allowed);
    expect(readdirSync(run?.dir ?? '')).toEqual([]); // nothing was built
  });

  it('serverless deploy runs the same check first: --param=keymode=file', () => {
    const run = runs.get('deploy keymode=file');
    expect(run?.status, run?.output).not.toBe(0);
    expect(run?.output).toContain('Unknown --param keymode (did you mean keyMode?)');
  });
});

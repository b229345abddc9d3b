/**
 * Issue 14 item 14: the AWS SDK's 9-line Node-version banner on every AWS-touching command. The
 * real banner text (from @aws-sdk/core) is fed through the CLI's handler, and the real `bin` is run
 * against an unreachable endpoint.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { condenseSdkBanner } from '#scripts/lib/sdk-banner.ts';

const BANNER = `NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)
versions published after the first week of January 2027
will require node >=22. You are running node v20.20.2.

To continue receiving updates to AWS services, bug fixes,
and security updates please upgrade to node >=22.

More information can be found at: https://a.co/c895JFp`;

describe('14. the SDK banner', () => {
  it('becomes one line, printed once; other warnings pass through', () => {
    const passed: unknown[] = [];
    const written: string[] = [];
    const emit = condenseSdkBanner(
      ((w: unknown) => passed.push(w)) as typeof process.emitWarning,
      (line) => written.push(line),
      'v20.20.2',
    );
    emit(BANNER);
    emit(BANNER);
    emit('something else');
    expect(written).toHaveLength(1);
    expect(written[0]?.trim().split('\n')).toHaveLength(1);
    expect(written[0]).toContain('Node.js 22');
    expect(passed).toEqual(['something else']);
  });

  it('an AWS-touching command prints at most one banner line', async () => {
    const bin = resolve(import.meta.dirname, '../../../scripts/bin.mjs');
    const stderr = await new Promise<string>((done) => {
      const child = spawn(process.execPath, [bin, 'status', '--stack', 'x', '--region', 'eu-west-1'], {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'secret',
          AWS_MAX_ATTEMPTS: '1',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c) => {
        err += c;
      });
      child.on('close', () => done(err));
    });
    expect(stderr).not.toMatch(/To continue receiving updates/);
    expect(stderr.split('\n').filter((l) => /AWS SDK for JavaScript/.test(l)).length).toBeLessThanOrEqual(1);
    expect(stderr).toMatch(/^error STACK_/m);
  });
});

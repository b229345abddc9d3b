/**
 * The CLI's one AWS client factory (scripts/lib/aws-clients.ts): the region is resolved once, in
 * the order `--region` > AWS_REGION > AWS_DEFAULT_REGION > the SDK's profile chain, and a missing
 * region is one AWS_REGION_MISSING line naming --region and AWS_REGION. Every client of the CLI
 * and the node agents comes from it with the same retry and deadlines.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { CLI_MAX_ATTEMPTS, cliAws, findRegion } from '#scripts/lib/aws-clients.ts';
import { CLI_AWS_DEADLINES } from '#scripts/lib/aws-deadlines.ts';
import { realDoctorDeps } from '#scripts/lib/doctor/deps.ts';
import { signerAws, signerKmsClient } from '#scripts/lib/signer/backends.ts';
import { fleetClients } from '#scripts/lib/stack/commands.ts';
import { describeStackOutputs } from '#scripts/lib/stack/outputs.ts';

const none = async () => undefined;
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

describe('region resolution', () => {
  it('--region, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile chain', async () => {
    const profile = async () => 'ap-south-1';
    const env = { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-central-1' };
    expect(await findRegion({ flag: 'us-west-2', env, sdkRegion: profile })).toBe('us-west-2');
    expect(await findRegion({ env, sdkRegion: profile })).toBe('eu-west-1');
    expect(await findRegion({ env: { AWS_DEFAULT_REGION: 'eu-central-1' }, sdkRegion: profile })).toBe(
      'eu-central-1',
    );
    expect(await findRegion({ env: { AWS_REGION: '' }, sdkRegion: profile })).toBe('ap-south-1');
    expect(await findRegion({ env: {}, sdkRegion: none })).toBeUndefined();
  });

  it('AWS_DEFAULT_REGION alone reaches the client (the bare SDK ignores it)', async () => {
    const kms = cliAws('test', { env: { AWS_DEFAULT_REGION: 'eu-north-1' }, sdkRegion: none }).client(
      KMSClient,
    );
    expect(await kms.config.region()).toBe('eu-north-1');
  });

  it('is resolved once for every client of the factory', async () => {
    let lookups = 0;
    const sdkRegion = async () => {
      lookups += 1;
      return 'us-east-2';
    };
    const aws = cliAws('test', { env: {}, sdkRegion });
    const clients = fleetClients(aws);
    await Promise.all([clients.cfn.config.region(), clients.s3.config.region(), aws.region()]);
    await clients.cloudwatch.config.region();
    expect(lookups).toBe(1);
  });

  it('no region: a call fails with one AWS_REGION_MISSING line naming --region and AWS_REGION', async () => {
    const aws = cliAws('stack "irsa-anywhere-x"', { env: {}, sdkRegion: none });
    const kms = aws.client(KMSClient, { credentials });
    await expect(aws.region()).rejects.toMatchObject({ code: 'AWS_REGION_MISSING' });
    const error = await kms.config.region().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'AWS_REGION_MISSING',
      message: 'No AWS region is configured for stack "irsa-anywhere-x".',
    });
    expect((error as { fix: string }).fix).toMatch(/--region .*AWS_REGION/);
    // Through a stack command: the factory's line, not STACK_DESCRIBE_FAILED or "Region is missing".
    const { cfn } = fleetClients(cliAws('stack "irsa-anywhere-x"', { env: {}, sdkRegion: none }));
    await expect(describeStackOutputs(cfn, 'irsa-anywhere-x')).rejects.toMatchObject({
      code: 'AWS_REGION_MISSING',
    });
  });

  it('IAM is global: with no region it signs for us-east-1 instead of failing', async () => {
    const iam = cliAws('audit --trust', { env: {}, sdkRegion: none }).client(IAMClient, {}, { global: true });
    expect(await iam.config.region()).toBe('us-east-1');
  });
});

describe('one set of client settings', () => {
  async function handlerConfig(client: { config: { requestHandler: unknown } }) {
    return (client.config.requestHandler as { configProvider?: Promise<Record<string, unknown>> })
      .configProvider;
  }

  it('every client of the stack, fleet and doctor commands: same retry, same deadlines', async () => {
    const aws = cliAws('test', { flag: 'eu-west-1' });
    const doctor = realDoctorDeps({ stack: 'irsa-anywhere-x', region: 'eu-west-1' }, {}).aws;
    const clients = { ...fleetClients(aws), ...doctor };
    expect(Object.keys(clients).sort()).toEqual(['cfn', 'cloudwatch', 'iam', 'lambda', 's3', 'sts']);
    for (const client of Object.values(clients)) {
      expect(await client.config.maxAttempts()).toBe(CLI_MAX_ATTEMPTS);
      expect(await handlerConfig(client)).toMatchObject({
        requestTimeout: CLI_AWS_DEADLINES.requestTimeoutMs,
        throwOnRequestTimeout: true,
      });
      expect(await client.config.region()).toBe('eu-west-1');
    }
  });

  it('the signer KMS client keeps its documented override: one attempt, 3 s', async () => {
    const kms = signerKmsClient(signerAws('eu-west-1'));
    expect(await kms.config.maxAttempts()).toBe(1);
    expect(await handlerConfig(kms)).toMatchObject({ requestTimeout: 3_000, throwOnRequestTimeout: true });
  });

  it('no file under scripts/ builds an SDK client outside the factory (the benchmark says why it does)', async () => {
    const root = path.resolve('scripts');
    const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const offenders: string[] = [];
    for (const file of files) {
      const text = await readFile(path.join(root, file), 'utf8');
      if (/new [A-Z]\w*Client\(/.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([path.join('lib', 'bench', 'kms-client.ts')]);
    const bench = await readFile(path.join(root, 'lib', 'bench', 'kms-client.ts'), 'utf8');
    expect(bench).toMatch(/outside the CLI's factory/);
  });
});

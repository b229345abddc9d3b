/**
 * The `--stack` branches of `status` and `rotate`: the deployed-stack counterparts of the local
 * commands. The command files call these; SDK clients are built here (or injected by tests).
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import type { CliAws } from '../aws-clients.ts';
import { type Io, printJson } from '../cli-support.ts';
import { fetchJson } from '../fetch-json.ts';
import { type FleetClients, fleetStatus, formatFleetStatus } from './fleet-status.ts';
import { describeStackOutputs } from './outputs.ts';
import { formatRotateResult, invokeRotate, rotatePayload } from './rotate.ts';
import { formatStatus, policyFromFunction, stackStatus } from './status.ts';

/** The AWS clients the stack commands use. */
export interface StackClients {
  cfn: CloudFormationClient;
  s3: S3Client;
  lambda: LambdaClient;
}

/** The stack commands' clients, from the CLI's factory (`cliAws`). */
export function stackClients(aws: CliAws): StackClients {
  return {
    cfn: aws.client(CloudFormationClient),
    s3: aws.client(S3Client),
    lambda: aws.client(LambdaClient),
  };
}

/** `status --stack NAME [--json] [--at T]`. */
export async function statusStackCommand(
  io: Io,
  options: { stack: string; json?: boolean; now?: Date },
  clients: StackClients,
  fetch: (url: string) => Promise<unknown> = (url) => fetchJson(url),
): Promise<void> {
  const outputs = await describeStackOutputs(clients.cfn, options.stack);
  const { policy, note } = await policyFromFunction(clients.lambda, outputs.rotateFunctionName);
  const report = await stackStatus({
    cfn: clients.cfn,
    s3: clients.s3,
    fetchJson: fetch,
    now: options.now ?? new Date(),
    stack: options.stack,
    policy,
  });
  if (options.json === true) {
    printJson(io, note === undefined ? report : { ...report, note });
    return;
  }
  io.out(formatStatus(report));
  if (note !== undefined) io.err(`note: ${note}`);
}

/** `rotate --stack NAME [--now | --revoke KID] [--json]`: invokes the rotate function. */
export async function rotateStackCommand(
  io: Io,
  options: { stack: string; now?: boolean; revoke?: string; json?: boolean },
  clients: StackClients,
): Promise<void> {
  const payload = rotatePayload(options);
  const outputs = await describeStackOutputs(clients.cfn, options.stack);
  const answer = await invokeRotate(clients.lambda, outputs.rotateFunctionName, payload);
  if (options.json === true) printJson(io, answer);
  else io.out(formatRotateResult(answer));
}

/** Clients for `status --fleet`: the stack clients plus CloudWatch for the alarms. */
export function fleetClients(aws: CliAws): FleetClients & { lambda: LambdaClient } {
  return { ...stackClients(aws), cloudwatch: aws.client(CloudWatchClient) };
}

/** `status --fleet NAME [--json]`: the member clusters of a fleet stack. */
export async function statusFleetCommand(
  io: Io,
  options: { fleet: string; json?: boolean; now?: Date },
  clients: FleetClients & { lambda: LambdaClient },
  fetch: (url: string) => Promise<unknown> = (url) => fetchJson(url),
): Promise<void> {
  const report = await fleetStatus(clients, {
    fleet: options.fleet,
    now: options.now ?? new Date(),
    fetchJson: fetch,
    policyFor: async (stack) => {
      const outputs = await describeStackOutputs(clients.cfn, stack);
      return (await policyFromFunction(clients.lambda, outputs.rotateFunctionName)).policy;
    },
  });
  if (options.json === true) printJson(io, report);
  else io.out(formatFleetStatus(report));
}

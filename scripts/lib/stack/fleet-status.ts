/**
 * `status --fleet NAME`: every cluster stack that publishes into a fleet's shared issuer domain,
 * with its issuer, active key and its age, last publish and alarm state. Members are found through
 * CloudFormation ListImports on the fleet's bucket export: a member stack imports it to publish,
 * so the list is exactly the stacks that depend on the fleet (and CloudFormation refuses to delete
 * the fleet while any remain).
 */
import {
  type CloudFormationClient,
  ListImportsCommand,
  type ListImportsCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { S3Client } from '@aws-sdk/client-s3';
import { IrsaError, isIrsaError } from '#core/errors.ts';
import type { RotationPolicy } from '#core/policy.ts';
import { formatAge } from '../key-status.ts';
import { describeReadyStack } from './outputs.ts';
import { type StatusReport, stackStatus } from './status.ts';

/** The OutputKeys of a fleet stack (serverless.fleet.yml) that `status --fleet` needs. */
export const FLEET_OUTPUTS = { issuerHost: 'FleetIssuerHost', bucket: 'FleetBucketName' } as const;

/** The export a member stack imports; its importers are the fleet's members. */
export function fleetBucketExport(fleetStack: string): string {
  return `${fleetStack}-Bucket`;
}

/** Alarm state of a member, worst first: any ALARM wins, then unknown, then OK. */
export type AlarmSummary = 'ALARM' | 'INSUFFICIENT_DATA' | 'OK' | 'NONE' | 'UNKNOWN';

/** One member cluster as `status --fleet` shows it. */
export interface FleetMember {
  stack: string;
  cluster?: string;
  issuer?: string;
  activeKid?: string;
  activeAgeSeconds?: number;
  lastPublishAt?: string | null;
  /** True when the live JWKS holds exactly the keyset's keys. */
  publishedMatches?: boolean;
  alarm: AlarmSummary;
  /** Alarms in ALARM state, by name. */
  alarming: string[];
  /** Why this member could not be read, when it could not (the other members are still listed). */
  error?: string;
}

/** Everything `status --fleet` prints. */
export interface FleetReport {
  fleet: string;
  issuerHost: string;
  bucket: string;
  members: FleetMember[];
}

/** The AWS clients `status --fleet` uses. */
export interface FleetClients {
  cfn: CloudFormationClient;
  s3: S3Client;
  cloudwatch: CloudWatchClient;
}

async function listMembers(cfn: CloudFormationClient, exportName: string): Promise<string[]> {
  const members: string[] = [];
  let token: string | undefined;
  do {
    let page: ListImportsCommandOutput;
    try {
      page = await cfn.send(new ListImportsCommand({ ExportName: exportName, NextToken: token }));
    } catch (error) {
      // CloudFormation answers ValidationError "... is not imported by any stack" for no members.
      if (error instanceof Error && /not imported by any stack/i.test(error.message)) return [];
      throw new IrsaError(
        'STACK_DESCRIBE_FAILED',
        `Could not list the stacks importing ${exportName}: ${error instanceof Error ? error.message : String(error)}`,
        'Check your AWS credentials and that they allow cloudformation:ListImports.',
        { cause: error },
      );
    }
    members.push(...(page.Imports ?? []));
    token = page.NextToken;
  } while (token !== undefined);
  return members.sort();
}

/** Summarises the alarms of one stack (named `<stack>-…` by infra/alarms.yml). */
export async function alarmSummary(
  cloudwatch: CloudWatchClient,
  stack: string,
): Promise<{ alarm: AlarmSummary; alarming: string[] }> {
  try {
    const out = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${stack}-` }));
    const alarms = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])];
    const alarming = alarms.filter((a) => a.StateValue === 'ALARM').map((a) => a.AlarmName ?? '?');
    if (alarms.length === 0) return { alarm: 'NONE', alarming };
    if (alarming.length > 0) return { alarm: 'ALARM', alarming };
    if (alarms.some((a) => a.StateValue === 'INSUFFICIENT_DATA'))
      return { alarm: 'INSUFFICIENT_DATA', alarming };
    return { alarm: 'OK', alarming };
  } catch {
    return { alarm: 'UNKNOWN', alarming: [] };
  }
}

/** Reduces a member's full status to the fleet row. Pure. */
export function memberRow(
  stack: string,
  report: StatusReport,
  alarms: { alarm: AlarmSummary; alarming: string[] },
): FleetMember {
  const active = report.keys.find((key) => key.state === 'active');
  const row: FleetMember = {
    stack,
    cluster: report.cluster,
    issuer: report.issuer,
    lastPublishAt: report.lastPublish?.at ?? null,
    publishedMatches: report.published.matches,
    ...alarms,
  };
  if (active !== undefined) {
    row.activeKid = active.kid;
    row.activeAgeSeconds = active.ageSeconds;
  }
  return row;
}

/**
 * The fleet's outputs, its members (ListImports), and each member's status and alarms. A member
 * that cannot be read is listed with its error; the fleet itself must be readable.
 */
export async function fleetStatus(
  clients: FleetClients,
  options: {
    fleet: string;
    now: Date;
    fetchJson: (url: string) => Promise<unknown>;
    policyFor: (memberStack: string) => Promise<RotationPolicy>;
  },
): Promise<FleetReport> {
  const fleet = await describeReadyStack(clients.cfn, options.fleet, Object.values(FLEET_OUTPUTS));
  const stacks = await listMembers(clients.cfn, fleetBucketExport(options.fleet));
  const members = await Promise.all(
    stacks.map(async (stack): Promise<FleetMember> => {
      const alarms = await alarmSummary(clients.cloudwatch, stack);
      try {
        const report = await stackStatus({
          cfn: clients.cfn,
          s3: clients.s3,
          fetchJson: options.fetchJson,
          now: options.now,
          stack,
          policy: await options.policyFor(stack),
        });
        return memberRow(stack, report, alarms);
      } catch (error) {
        return {
          stack,
          ...alarms,
          error: isIrsaError(error) ? `${error.code}: ${error.message}` : String(error),
        };
      }
    }),
  );
  return {
    fleet: options.fleet,
    issuerHost: fleet.all[FLEET_OUTPUTS.issuerHost] ?? '',
    bucket: fleet.all[FLEET_OUTPUTS.bucket] ?? '',
    members,
  };
}

/** The fleet report as a table for a terminal. */
export function formatFleetStatus(report: FleetReport): string {
  const header = ['STACK', 'ISSUER', 'ACTIVE KID', 'AGE', 'LAST PUBLISH', 'JWKS', 'ALARM'];
  const rows = report.members.map((m) =>
    m.error !== undefined
      ? [m.stack, '-', '-', '-', '-', '-', m.alarm, `  ${m.error}`]
      : [
          m.stack,
          m.issuer ?? '-',
          m.activeKid ?? 'none',
          m.activeAgeSeconds === undefined ? '-' : formatAge(m.activeAgeSeconds),
          m.lastPublishAt ?? 'never',
          m.publishedMatches === true ? 'OK' : 'MISMATCH',
          m.alarm === 'ALARM' ? `ALARM (${m.alarming.join(', ')})` : m.alarm,
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .slice(0, header.length)
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd() + (cells[header.length] === undefined ? '' : `\n${cells[header.length]}`);
  return [
    `fleet:   ${report.fleet}`,
    `issuer:  https://${report.issuerHost}/<cluster>`,
    `bucket:  ${report.bucket}`,
    `members: ${report.members.length}`,
    ...(report.members.length === 0 ? [] : ['', line(header), ...rows.map(line)]),
  ].join('\n');
}

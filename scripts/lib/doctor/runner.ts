/**
 * Runs the checks in order (each reads what the earlier ones found) and formats the checklist.
 * Exit code: 0 when nothing FAILs (WARN and SKIP do not fail), 1 otherwise.
 */
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { paintStatus } from '../terminal.ts';
import { checkAlarmTopic } from './checks/alarms.ts';
import { checkAssume } from './checks/assume.ts';
import { checkCluster } from './checks/cluster.ts';
import { checkDiscovery } from './checks/discovery.ts';
import { checkFleet } from './checks/fleet.ts';
import { checkIamProvider } from './checks/iam.ts';
import { checkJwks } from './checks/jwks.ts';
import { checkIssuerUrl, checkKubeconfig, checkStack, checkTokenSource } from './checks/setup.ts';
import { checkToken } from './checks/token.ts';
import { checkTrustPolicy } from './checks/trust.ts';
import type { CheckResult, DoctorContext, DoctorDeps, DoctorOptions } from './types.ts';

/** The checks, in the order they run and print. */
export const CHECKS: ReadonlyArray<(ctx: DoctorContext) => Promise<CheckResult[]>> = [
  checkStack,
  checkAlarmTopic,
  checkFleet,
  checkKubeconfig,
  checkTokenSource,
  checkIssuerUrl,
  checkDiscovery,
  checkJwks,
  checkIamProvider,
  checkToken,
  checkTrustPolicy,
  checkCluster,
  checkAssume,
];

/** `checkIamProvider` -> `iam provider`. */
function stepLabel(name: string): string {
  return name
    .replace(/^check/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

/** Runs every check and returns the checklist. A check that throws becomes a FAIL line. */
export async function runDoctor(options: DoctorOptions, deps: DoctorDeps): Promise<CheckResult[]> {
  const ctx: DoctorContext = {
    options,
    deps,
    audience: options.audience ?? DEFAULT_AUDIENCE,
    loopback: false,
  };
  const results: CheckResult[] = [];
  for (const check of CHECKS) {
    deps.progress?.(`checking ${stepLabel(check.name)}`);
    try {
      results.push(...(await check(ctx)));
    } catch (error) {
      results.push({
        id: `internal.${check.name}`,
        title: `Check ${check.name} ran`,
        status: 'FAIL',
        detail: error instanceof Error ? error.message : String(error),
        fix: 'This is a bug in doctor; please report it with the command line you ran.',
      });
    }
  }
  return results;
}

/** 0 when no line FAILs, else 1. */
export function doctorExitCode(results: readonly CheckResult[]): number {
  return results.some((line) => line.status === 'FAIL') ? 1 : 0;
}

/** Counts per status. */
export function summarize(results: readonly CheckResult[]): Record<CheckResult['status'], number> {
  const counts = { PASS: 0, WARN: 0, FAIL: 0, SKIP: 0 };
  for (const line of results) counts[line.status] += 1;
  return counts;
}

/**
 * The checklist as text: one line per check, the detail, and `fix:` under every WARN and FAIL.
 * With `colour` (a TTY, see scripts/lib/terminal.ts) the status words are coloured.
 */
export function formatChecklist(results: readonly CheckResult[], colour = false): string {
  const lines: string[] = [];
  for (const line of results) {
    lines.push(`${paintStatus(line.status.padEnd(4), colour)}  ${line.id.padEnd(22)}  ${line.title}`);
    if (line.detail !== '') lines.push(`      ${line.detail}`);
    if (line.fix !== '' && (line.status === 'FAIL' || line.status === 'WARN'))
      lines.push(`      fix: ${line.fix}`);
  }
  const counts = summarize(results);
  lines.push(
    '',
    `${counts.PASS} passed, ${counts.WARN} warnings, ${counts.FAIL} failed, ${counts.SKIP} skipped`,
  );
  return lines.join('\n');
}

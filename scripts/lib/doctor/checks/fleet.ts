/**
 * `stack.fleet`: for a stack that publishes into a fleet (its outputs name `FleetStack`), the
 * issuer must be exactly `https://<fleet issuer host>/<cluster>`: the fleet's bucket policy lets
 * the member write only under its cluster's prefix, so any other issuer path would be served with
 * another cluster's documents or none. While a migration keeps the old issuer, say so.
 */
import { FLEET_OUTPUTS } from '../../stack/fleet-status.ts';
import { describeReadyStack } from '../../stack/outputs.ts';
import { type CheckResult, type DoctorContext, result } from '../types.ts';
import { fixOf, messageOf } from './setup.ts';

const TITLE = 'Fleet member issuer is the fleet domain plus the cluster path';

/** The issuer a member of a fleet whose issuer host is `host` must have for `cluster`. Pure. */
export function fleetMemberIssuer(host: string, cluster: string): string {
  return `https://${host}/${cluster}`;
}

/** `stack.fleet` and, while migrating, `stack.fleet-migration`. Nothing for a standalone stack. */
export async function checkFleet(ctx: DoctorContext): Promise<CheckResult[]> {
  const fleet = ctx.stack?.all.FleetStack;
  if (ctx.stack === undefined || fleet === undefined || ctx.deps.aws === undefined) return [];
  const out: CheckResult[] = [];
  const issuer = ctx.stack.issuerUrl;
  try {
    const fleetStack = await describeReadyStack(ctx.deps.aws.cfn, fleet, Object.values(FLEET_OUTPUTS));
    const host = fleetStack.all[FLEET_OUTPUTS.issuerHost] ?? '';
    const cluster = issuer.slice(issuer.lastIndexOf('/') + 1);
    const expected = fleetMemberIssuer(host, cluster);
    out.push(
      issuer === expected && new URL(issuer).pathname.split('/').length === 2
        ? result(
            'stack.fleet',
            TITLE,
            'PASS',
            `${issuer} in fleet ${fleet} (bucket ${fleetStack.all[FLEET_OUTPUTS.bucket]})`,
          )
        : result(
            'stack.fleet',
            TITLE,
            'FAIL',
            `the stack's issuer ${issuer} is not under the fleet's host ${host} as /<cluster>`,
            `Deploy the member again with --param="fleet=${fleet}" and no customDomain/pathPrefix (docs/fleet.md).`,
          ),
    );
  } catch (error) {
    out.push(
      result(
        'stack.fleet',
        TITLE,
        'FAIL',
        messageOf(error),
        fixOf(error, `Check that the fleet stack ${fleet} exists in this region.`),
      ),
    );
  }
  const old = ctx.stack.all.StandaloneIssuerUrl;
  if (old !== undefined) {
    out.push(
      result(
        'stack.fleet-migration',
        'Migration into the fleet is finished',
        'WARN',
        `the old issuer ${old} and its OIDC provider are still kept (keepStandaloneIssuer=true)`,
        'Once every token with the old issuer has expired (maxTokenLifetimeSeconds after kube-apiserver switched), deploy without keepStandaloneIssuer (docs/fleet.md, step 4).',
      ),
    );
  }
  return out;
}

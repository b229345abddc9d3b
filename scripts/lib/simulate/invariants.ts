/**
 * One checker for the invariants ARCHITECTURE.md lists, read from the fake AWS account the way an
 * auditor would: keyset.json in the state bucket, the two public documents, KMS keys and wrapped
 * key objects. Returns the violations as sentences (empty when every invariant holds).
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { FakeAws } from '#adapters/memory/memory-aws.ts';
import { isIrsaError } from '#core/errors.ts';
import { assertNoPrivateMembers, MAX_KEYS_PER_TYPE } from '#core/jwks.ts';
import { type Keyset, PUBLISHED_STATES } from '#core/keyset.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { kidFromSpki } from '#core/kid.ts';
import type { RotationPolicy } from '#core/policy.ts';

/** Where the deployment under test keeps things. */
export interface Deployment {
  stateBucket: string;
  publicBucket: string;
  issuer: string;
  cluster: string;
  policy: RotationPolicy;
}

/** What the checker found: violations, and leftovers that cost money but break nothing. */
export interface InvariantReport {
  violations: string[];
  keyset: Keyset | undefined;
  /** KMS signing keys of this cluster that are enabled but not in the keyset. */
  orphanKmsKeys: number;
  /** Wrapped key objects in the state bucket that no keyset record points at. */
  orphanWrappedObjects: number;
}

/** Checks every invariant on the account's current state. */
export function checkInvariants(
  aws: FakeAws,
  deployment: Deployment,
  options: { emergency?: boolean } = {},
): InvariantReport {
  const violations: string[] = [];
  const fail = (text: string): void => {
    violations.push(text);
  };
  const report: InvariantReport = {
    violations,
    keyset: undefined,
    orphanKmsKeys: 0,
    orphanWrappedObjects: 0,
  };
  const text = aws.text(deployment.stateBucket, 'keyset.json');
  if (text === undefined) {
    fail('keyset.json is missing');
    return report;
  }
  let keyset: Keyset;
  try {
    keyset = parseKeyset(text);
  } catch (error) {
    fail(`keyset.json does not parse: ${isIrsaError(error) ? error.code : String(error)}`);
    return report;
  }
  report.keyset = keyset;
  if (keyset.cluster !== deployment.cluster) fail(`keyset cluster ${keyset.cluster}`);
  if (keyset.issuer !== deployment.issuer) fail(`keyset issuer ${keyset.issuer}`);
  const active = keyset.keys.filter((key) => key.state === 'active');
  if (active.length !== 1) fail(`${active.length} active keys`);

  const jwksText = aws.text(deployment.publicBucket, 'openid/v1/jwks');
  const discoveryText = aws.text(deployment.publicBucket, '.well-known/openid-configuration');
  if (jwksText === undefined || discoveryText === undefined) {
    fail('a public document is missing');
    return report;
  }
  const jwks = JSON.parse(jwksText) as { keys: Array<{ kid: string; kty: string }> };
  const discovery = JSON.parse(discoveryText) as { issuer?: string; jwks_uri?: string };
  for (const [name, document] of [
    ['jwks', jwks],
    ['discovery', discovery],
  ] as const) {
    try {
      assertNoPrivateMembers(document);
    } catch {
      fail(`the published ${name} holds a private key member`);
    }
  }
  if (discovery.issuer !== deployment.issuer) fail(`discovery issuer ${String(discovery.issuer)}`);
  if (discovery.jwks_uri !== `${deployment.issuer}/openid/v1/jwks`)
    fail(`discovery jwks_uri ${String(discovery.jwks_uri)}`);
  const published = jwks.keys.map((key) => key.kid);
  if (published.length === 0) fail('the published JWKS is empty');
  for (const key of active)
    if (!published.includes(key.kid)) fail(`the active key ${key.kid} is not published`);
  // Every key that may have signed a still-valid token is pending, active or retired: published.
  const desired = keyset.keys.filter((key) => PUBLISHED_STATES.has(key.state)).map((key) => key.kid);
  for (const kid of desired)
    if (!published.includes(kid)) fail(`${kid} (${stateOf(keyset, kid)}) is not published`);
  for (const kid of published)
    if (!desired.includes(kid)) fail(`${kid} is published but is ${stateOf(keyset, kid)}`);
  for (const kty of ['RSA', 'EC']) {
    const count = jwks.keys.filter((key) => key.kty === kty).length;
    if (count > MAX_KEYS_PER_TYPE) fail(`${count} ${kty} keys published`);
  }
  if (
    keyset.lastPublish === undefined ||
    [...keyset.lastPublish.kids].sort().join() !== [...published].sort().join()
  ) {
    fail('keyset.lastPublish does not match the published JWKS');
  }
  // A key signs only after it has been public for publishLead (the bootstrap key excepted, and a
  // key an operator's emergency revoke or rotate-now made active on purpose).
  for (const key of options.emergency === true ? [] : active) {
    const bootstrap = key.activatedAt === key.createdAt;
    const lead = Date.parse(key.activatedAt ?? '') - Date.parse(key.publishedAt ?? '');
    if (!bootstrap && !(lead >= deployment.policy.publishLeadSeconds * 1000)) {
      fail(`active key ${key.kid} signed after ${lead / 1000} s of publication`);
    }
  }
  // The key material behind every record that can sign or verify exists and matches its kid.
  const referenced = new Set<string>();
  for (const key of keyset.keys) {
    if (key.location.type === 'kms') {
      referenced.add(key.location.keyId);
      if (!PUBLISHED_STATES.has(key.state)) continue;
      const kmsKey = aws.state.keys.get(key.location.keyId);
      if (kmsKey?.state !== 'Enabled')
        fail(`KMS key of ${key.kid} (${key.state}) is ${kmsKey?.state ?? 'gone'}`);
      else if (kidFromSpki(kmsKey.spki ?? new Uint8Array()) !== key.kid)
        fail(`KMS key of ${key.kid} has another kid`);
    } else if (key.location.type === 'wrapped') {
      referenced.add(key.location.object);
      if (!PUBLISHED_STATES.has(key.state)) continue;
      const object = aws.state.objects.get(`${deployment.stateBucket}/${key.location.object}`);
      if (object === undefined) {
        fail(`wrapped key of ${key.kid} (${key.state}) is missing`);
        continue;
      }
      try {
        const der = aws.decrypt(object.body, key.location.wrappingKeyId, {
          cluster: deployment.cluster,
          kid: key.kid,
        });
        const spki = createPublicKey(
          createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }),
        ).export({ type: 'spki', format: 'der' });
        if (kidFromSpki(spki) !== key.kid) fail(`wrapped key of ${key.kid} holds another key`);
      } catch (error) {
        fail(`wrapped key of ${key.kid} does not decrypt: ${String(error)}`);
      }
    }
  }
  for (const [keyId, kmsKey] of aws.state.keys) {
    if (kmsKey.spec !== 'SYMMETRIC_DEFAULT' && kmsKey.state === 'Enabled' && !referenced.has(keyId))
      report.orphanKmsKeys += 1;
  }
  for (const id of aws.state.objects.keys()) {
    const prefix = `${deployment.stateBucket}/`;
    if (id.startsWith(`${prefix}keys/`) && !referenced.has(id.slice(prefix.length)))
      report.orphanWrappedObjects += 1;
  }
  return report;
}

function stateOf(keyset: Keyset, kid: string): string {
  return keyset.keys.find((key) => key.kid === kid)?.state ?? 'not in the keyset';
}

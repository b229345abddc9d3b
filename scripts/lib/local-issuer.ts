/**
 * Local mode as a library: the pieces `local`, `token mint`, `rotate`, `status` and the tests
 * share, on top of the local adapters and the same core the Lambdas run.
 */
import { randomUUID } from 'node:crypto';
import { composeLocal } from '#adapters/local/compose-local.ts';
import { assertLocalDir, readLocalConfig, writeLocalConfig } from '#adapters/local/local-config.ts';
import { formatError, IrsaError } from '#core/errors.ts';
import { validateIssuerUrl } from '#core/issuer.ts';
import type { KeySpec } from '#core/keyset.ts';
import { activeKey, type RotationRequest } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy, type PolicyInput } from '#core/policy.ts';
import { buildProjectedTokenClaims, encodeJsonSegment, signCompactJwt } from '#core/projected-token.ts';
import { type RotationReport, runRotation } from '#core/rotation-run.ts';
import { localIssuerUrl, startLocalServer } from './local-server.ts';

/** Runs one rotation of the local issuer in `dir` at time `now`. */
export async function rotateLocal(
  dir: string,
  now: Date,
  request?: RotationRequest,
): Promise<RotationReport> {
  const { config, policy } = await readLocalConfig(dir);
  const { store, keys, publisher } = composeLocal(dir);
  return runRotation(
    { store, keys, publisher, policy, cluster: 'local', issuer: config.issuer, clock: () => now },
    request,
  );
}

/** What to mint a token for. */
export interface MintRequest {
  dir: string;
  namespace: string;
  serviceAccount: string;
  audiences: readonly string[];
  ttlSeconds: number;
  now: Date;
}

/**
 * Mints a projected service-account token signed by the active local key, with the claims and
 * header kube-apiserver would produce.
 */
export async function mintLocalToken(request: MintRequest): Promise<string> {
  await assertLocalDir(request.dir);
  const { config, policy } = await readLocalConfig(request.dir);
  if (
    !Number.isInteger(request.ttlSeconds) ||
    request.ttlSeconds < 600 ||
    request.ttlSeconds > policy.maxTokenLifetimeSeconds
  ) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--ttl must be from 600 to ${policy.maxTokenLifetimeSeconds} seconds, got ${request.ttlSeconds}.`,
      `Pass --ttl 3600 (kube-apiserver allows 600 s up to the configured maximum).`,
    );
  }
  const { store, signer } = composeLocal(request.dir);
  const current = await store.read();
  const key = current === null ? undefined : activeKey(current.keyset);
  if (key === undefined) {
    throw new IrsaError(
      'NO_ACTIVE_KEY',
      `The keyset in ${request.dir} has no active key.`,
      `Run irsa-anywhere rotate --dir ${request.dir} to repair it.`,
    );
  }
  const claims = buildProjectedTokenClaims({
    issuer: config.issuer,
    audiences: request.audiences,
    namespace: request.namespace,
    serviceAccount: request.serviceAccount,
    serviceAccountUid: randomUUID(),
    pod: { name: `${request.serviceAccount}-pod`, uid: randomUUID() },
    now: request.now,
    ttlSeconds: request.ttlSeconds,
    jti: randomUUID(),
  });
  return signCompactJwt({ alg: key.alg, kid: key.kid }, encodeJsonSegment(claims), (input) =>
    signer.sign(key, input),
  );
}

/** Options of {@link startLocalIssuer}. */
export interface StartLocalOptions {
  dir: string;
  host: string;
  port: number;
  keySpec?: KeySpec;
  /** Re-run the rotation plan this often (real clock). 0 disables. */
  rotateEveryMs?: number;
}

/** A running local issuer. */
export interface RunningLocalIssuer {
  issuer: string;
  port: number;
  report: RotationReport;
  close(): Promise<void>;
}

/**
 * Starts the local issuer: binds the port first (so a port in use fails before anything is
 * written), records the issuer and policy in `local.json`, applies the rotation plan, and serves
 * the published documents.
 */
export async function startLocalIssuer(options: StartLocalOptions): Promise<RunningLocalIssuer> {
  const existing = await readLocalConfig(options.dir).catch(() => null);
  const policyInput: PolicyInput = { ...(existing?.config.policy ?? DEFAULT_POLICY_INPUT) };
  if (options.keySpec !== undefined) policyInput.keySpec = options.keySpec;
  const policy = makePolicy(policyInput);
  const server = await startLocalServer(options.dir, options.host, options.port, policy.jwksMaxAgeSeconds);
  try {
    const issuer = validateIssuerUrl(localIssuerUrl(options.host, server.port), { allowLoopbackHttp: true });
    await writeLocalConfig(options.dir, { issuer, policy: policyInput });
    const report = await rotateLocal(options.dir, new Date());
    const timer =
      options.rotateEveryMs === undefined || options.rotateEveryMs === 0
        ? undefined
        : setInterval(() => {
            rotateLocal(options.dir, new Date()).catch((error: unknown) =>
              process.stderr.write(`rotation failed: ${formatError(error)}\n`),
            );
          }, options.rotateEveryMs);
    timer?.unref();
    return {
      issuer,
      port: server.port,
      report,
      close: async () => {
        if (timer !== undefined) clearInterval(timer);
        await server.close();
      },
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}

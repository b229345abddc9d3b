/**
 * Local mode as a library: the pieces `local`, `token mint`, `rotate`, `status` and the tests
 * share, on top of the local adapters and the same core the Lambdas run.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { composeLocal } from '#adapters/local/compose-local.ts';
import { localPaths } from '#adapters/local/fs-store.ts';
import { assertLocalDir, readLocalConfig, writeLocalConfig } from '#adapters/local/local-config.ts';
import { formatError, IrsaError } from '#core/errors.ts';
import { validateIssuerUrl } from '#core/issuer.ts';
import type { KeySpec } from '#core/keyset.ts';
import { clampFutureTimes, futureTimes } from '#core/keyset-clock.ts';
import { activeKey, type RotationRequest } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy, type PolicyInput, type RotationPolicy } from '#core/policy.ts';
import { buildProjectedTokenClaims, encodeJsonSegment, signCompactJwt } from '#core/projected-token.ts';
import { type RotationReport, runRotation } from '#core/rotation-run.ts';
import { parseIntFlag } from './cli-support.ts';
import { localIssuerUrl, startLocalServer } from './local-server.ts';
import { checkLocalState, missingKeyProblems } from './local-state.ts';

/** Runs one rotation of the local issuer in `dir` at time `now`. */
export async function rotateLocal(
  dir: string,
  now: Date,
  request?: RotationRequest,
  settings?: { issuer: string; policy: RotationPolicy },
): Promise<RotationReport> {
  let resolved = settings;
  if (resolved === undefined) {
    const { config, policy } = await readLocalConfig(dir);
    resolved = { issuer: config.issuer, policy };
  }
  const { issuer, policy } = resolved;
  const { store, keys, publisher } = composeLocal(dir);
  return runRotation({ store, keys, publisher, policy, cluster: 'local', issuer, clock: () => now }, request);
}

/**
 * `rotate --repair-clock`: sets every time in the keyset that lies after `now` to `now`, with
 * compare-and-swap. Returns what it changed (empty: nothing to do, nothing written).
 */
export async function repairLocalClock(dir: string, now: Date): Promise<string[]> {
  const { store } = composeLocal(dir);
  const current = await store.read();
  if (current === null) return [];
  const found = futureTimes(current.keyset, now);
  if (found.length === 0) return [];
  await store.write(clampFutureTimes(current.keyset, now), current.version);
  return found;
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
    // The same words as the flag parser, so both checks name one range.
    parseIntFlag('--ttl', String(request.ttlSeconds), 600, policy.maxTokenLifetimeSeconds);
  }
  const { store, signer } = composeLocal(request.dir);
  const current = await store.read();
  const key = current === null ? undefined : activeKey(current.keyset);
  if (current === null || key === undefined) {
    throw new IrsaError(
      'NO_ACTIVE_KEY',
      `The keyset in ${request.dir} has no active key.`,
      `Run irsa-anywhere rotate --dir ${request.dir} to repair it.`,
    );
  }
  // A missing or garbage key file is reported with this directory's fix, as status and rotate do.
  const [keyProblem] = await missingKeyProblems(request.dir, { ...current.keyset, keys: [key] });
  if (keyProblem !== undefined) throw keyProblem;
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
  // Everything is checked before anything is written: a start that fails leaves the directory as it was.
  const hasConfig = existsSync(localPaths(options.dir).config);
  const existing = hasConfig ? await readLocalConfig(options.dir) : null;
  await checkLocalState(options.dir, new Date(), { config: false });
  const policyInput: PolicyInput = { ...(existing?.config.policy ?? DEFAULT_POLICY_INPUT) };
  if (options.keySpec !== undefined) policyInput.keySpec = options.keySpec;
  const policy = makePolicy(policyInput);
  const server = await startLocalServer(options.dir, options.host, options.port, policy.jwksMaxAgeSeconds);
  try {
    const issuer = validateIssuerUrl(localIssuerUrl(options.host, server.port), { allowLoopbackHttp: true });
    const report = await rotateLocal(options.dir, new Date(), undefined, { issuer, policy });
    await writeLocalConfig(options.dir, { issuer, policy: policyInput });
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

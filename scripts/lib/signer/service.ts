/**
 * The three ExternalJWTSigner RPCs as plain functions, independent of gRPC so they can be tested
 * and benchmarked in-process. Errors are `IrsaError`s whose code `statusFor` maps to a gRPC status.
 */
import { verify } from 'node:crypto';
import type { GrpcStatusName } from '#core/error-codes.ts';
import { errorClassOf, formatError, IrsaError, isIrsaError } from '#core/errors.ts';
import type { SigningBackend } from '#core/ports.ts';
import type { SignerObserver } from '../metrics/signer-metrics.ts';
import { checkClaims, encodeHeader } from './claims.ts';
import type { SignerSettings } from './config.ts';
import type { ExtraKey } from './extra-keys.ts';
import type { KeysetCache, ServedKey } from './keyset-cache.ts';
import type { SignerLog } from './log.ts';
import { withRetry } from './retry.ts';

/** FetchKeys response, in the proto's field names. */
export interface FetchKeysResult {
  keys: Array<{ key_id: string; key: Buffer; exclude_from_oidc_discovery: boolean }>;
  data_timestamp: { seconds: number; nanos: number };
  refresh_hint_seconds: number;
}

/** gRPC status codes the signer returns (numeric values from the gRPC spec). */
export const GRPC_STATUS = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const satisfies Record<GrpcStatusName, number>;

/** The gRPC status for an error thrown by the service, read from the error-code registry. */
export function statusFor(error: unknown): number {
  return GRPC_STATUS[errorClassOf(error).grpc];
}

/** What the service needs. */
export interface SignerServiceDeps {
  keys: KeysetCache;
  signer: SigningBackend;
  extraKeys: readonly ExtraKey[];
  settings: SignerSettings;
  log: SignerLog;
  /** Metrics hooks; absent when metrics are off (then nothing is timed or counted). */
  metrics?: SignerObserver;
}

const SIGNATURE_BYTES: Readonly<Record<string, number>> = { ES256: 64 };

/** The signer's RPCs. */
export class SignerService {
  /** Kids whose backend signature has been checked once against the keyset's public key. */
  readonly #checked = new Set<string>();
  readonly #headers = new Map<string, string>();

  constructor(private readonly deps: SignerServiceDeps) {}

  #activeKey(): ServedKey {
    const active = this.deps.keys.snapshot?.active ?? null;
    if (active === null) {
      throw new IrsaError(
        'SIGNER_NO_ACTIVE_KEY',
        'The keyset has no usable active key, so nothing can sign.',
        'Run `irsa-anywhere status` to see the keyset; the rotate function (or `irsa-anywhere rotate`) makes a key active.',
      );
    }
    return active;
  }

  #header(key: ServedKey): string {
    let header = this.#headers.get(key.kid);
    if (header === undefined) {
      header = encodeHeader(key.record.alg, key.kid);
      this.#headers.set(key.kid, header);
    }
    return header;
  }

  async #signWithBackend(key: ServedKey, input: Buffer): Promise<Uint8Array> {
    const metrics = this.deps.metrics;
    const call = () => this.deps.signer.sign(key.record, input);
    try {
      return await withRetry(metrics === undefined ? call : () => metrics.backendCall(call), {
        attempts: this.deps.settings.signAttempts,
        deadlineMs: this.deps.settings.signTimeoutMs,
        onRetry: (attempt, error, delayMs) => {
          metrics?.retried();
          this.deps.log.log('warn', 'signing backend throttled; retrying', {
            code: 'SIGNING_THROTTLED',
            kid: key.kid,
            attempt,
            delayMs,
            error: formatError(error),
          });
        },
      });
    } catch (error) {
      if (isIrsaError(error, 'SIGNING_TIMEOUT') || isIrsaError(error, 'SIGNING_THROTTLED')) throw error;
      throw new IrsaError(
        isIrsaError(error) ? error.code : 'SIGNING_FAILED',
        `The signing backend failed for kid ${key.kid}: ${error instanceof Error ? error.message : String(error)}`,
        isIrsaError(error)
          ? error.fix
          : 'Check the signing backend (KMS key state, the node IAM policy, network) and the signer log.',
        { cause: error },
      );
    }
  }

  /** Signs `header_b64 + "." + claims` with the active key and returns both segments base64url. */
  async sign(claims: unknown): Promise<{ header: string; signature: string }> {
    checkClaims(claims);
    const key = this.#activeKey();
    const header = this.#header(key);
    const input = Buffer.from(`${header}.${claims}`);
    const signature = await this.#signWithBackend(key, input);
    const expected = SIGNATURE_BYTES[key.record.alg];
    if (expected !== undefined && signature.length !== expected) {
      throw new IrsaError(
        'SIGNING_BAD_SIGNATURE',
        `The backend returned a ${signature.length}-byte ${key.record.alg} signature; JOSE needs ${expected}.`,
        'This is a bug in the signing backend adapter; report it with the signer log.',
      );
    }
    if (!this.#checked.has(key.kid)) {
      const ok = verify(
        'sha256',
        input,
        key.record.alg === 'ES256' ? { key: key.publicKey, dsaEncoding: 'ieee-p1363' } : key.publicKey,
        signature,
      );
      if (!ok) {
        throw new IrsaError(
          'SIGNING_KEY_MISMATCH',
          `The backend's signature for kid ${key.kid} does not verify with the keyset's public key.`,
          "Check that the key's location in keyset.json points at the key with that public key.",
        );
      }
      this.#checked.add(key.kid);
    }
    // A view, not a copy, of the backend's bytes.
    const view = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
    return { header, signature: view.toString('base64url') };
  }

  /** Every non-deleted keyset key, then the legacy keys (excluded from discovery). */
  fetchKeys(): FetchKeysResult {
    const snapshot = this.deps.keys.snapshot;
    if (snapshot === null) {
      throw new IrsaError(
        'SIGNER_KEYSET_MISSING',
        'The keyset has not been read yet.',
        'Wait for the signer to finish starting, and check its log for the keyset read error.',
      );
    }
    const keys: FetchKeysResult['keys'] = snapshot.keys.map((k) => ({
      key_id: k.kid,
      key: k.spki,
      exclude_from_oidc_discovery: false,
    }));
    for (const extra of this.deps.extraKeys) {
      if (keys.some((k) => k.key_id === extra.kid)) continue;
      keys.push({ key_id: extra.kid, key: extra.spki, exclude_from_oidc_discovery: true });
    }
    const ms = snapshot.readAt.getTime();
    return {
      keys,
      data_timestamp: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 },
      refresh_hint_seconds: this.deps.settings.refreshHintSeconds,
    };
  }

  metadata(): { max_token_expiration_seconds: number } {
    return { max_token_expiration_seconds: this.deps.settings.maxTokenExpirationSeconds };
  }
}

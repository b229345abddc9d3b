/**
 * Signing with asymmetric KMS keys (kms mode): the private key never leaves KMS. `Sign` is
 * called with `MessageType: RAW`, so KMS hashes the JWS signing input itself (RS256 →
 * `RSASSA_PKCS1_V1_5_SHA_256`, ES256 → `ECDSA_SHA_256`). An input over the 4096-byte RAW limit is
 * hashed here and sent as `DIGEST` (correct on KMS; moto re-hashes digests, so tests stay on RAW).
 * ECDSA signatures come back DER-encoded and are converted to JOSE r||s.
 */
import { createHash } from 'node:crypto';
import { type KMSClient, SignCommand, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { derToJoseSignature } from '#core/ecdsa.ts';
import { IrsaError } from '#core/errors.ts';
import type { KeyRecord, SigningAlg } from '#core/keyset.ts';
import type { SigningBackend } from '#core/ports.ts';
import { awsErrorName, isAwsError, isAwsThrottling } from './aws-errors.ts';

/** KMS accepts RAW messages up to this many bytes. */
export const KMS_RAW_MESSAGE_LIMIT = 4096;

/** The KMS signing algorithm for each JWS algorithm we sign with. */
export const KMS_SIGNING_ALGORITHM: Readonly<Record<SigningAlg, SigningAlgorithmSpec>> = {
  RS256: 'RSASSA_PKCS1_V1_5_SHA_256',
  ES256: 'ECDSA_SHA_256',
};

const TIMEOUT = ['DependencyTimeoutException', 'TimeoutError', 'RequestTimeout'];
const KEY_UNUSABLE = [
  'DisabledException',
  'KeyUnavailableException',
  'KMSInvalidStateException',
  'NotFoundException',
  'InvalidKeyUsageException',
];

function mapKmsError(error: unknown, key: KeyRecord): IrsaError {
  const name = awsErrorName(error) ?? 'unknown';
  const options = { cause: error, detail: { kid: key.kid, awsError: name } };
  if (isAwsThrottling(error)) {
    return new IrsaError(
      'SIGNING_THROTTLED',
      `KMS throttled Sign for kid ${key.kid} (${name}).`,
      'Token requests exceed the account KMS quota for asymmetric Sign; request a quota increase or lower the token request rate.',
      options,
    );
  }
  if (isAwsError(error, TIMEOUT)) {
    return new IrsaError(
      'SIGNING_TIMEOUT',
      `KMS Sign timed out for kid ${key.kid} (${name}).`,
      'Check the network path from the node to the KMS endpoint and retry.',
      options,
    );
  }
  if (isAwsError(error, ['AccessDeniedException'], [403])) {
    return new IrsaError(
      'SIGNING_ACCESS_DENIED',
      `KMS refused Sign for kid ${key.kid} (${name}).`,
      "Attach the stack's NodePolicyArn output (kms:Sign on the cluster's keys) to the node's role.",
      options,
    );
  }
  if (isAwsError(error, KEY_UNUSABLE)) {
    return new IrsaError(
      'SIGNING_KEY_UNUSABLE',
      `The KMS key for kid ${key.kid} cannot sign (${name}).`,
      'Run `irsa-anywhere status`; if the active key was disabled or deleted, run `irsa-anywhere rotate --now`.',
      options,
    );
  }
  return new IrsaError(
    'SIGNING_FAILED',
    `KMS Sign failed for kid ${key.kid} (${name}).`,
    'Check the KMS endpoint, the node credentials and region, and the signer log.',
    options,
  );
}

/** {@link SigningBackend} for keys whose location is `{ type: 'kms' }`. */
export class KmsSigner implements SigningBackend {
  readonly #kms: KMSClient;

  /** @param options.kms a KMS client for the keys' region (built by the caller). */
  constructor(options: { kms: KMSClient }) {
    this.#kms = options.kms;
  }

  async sign(key: KeyRecord, signingInput: Uint8Array): Promise<Uint8Array> {
    if (key.location.type !== 'kms') {
      throw new IrsaError(
        'KEY_LOCATION_MISMATCH',
        `Key ${key.kid} lives in ${key.location.type}, not in KMS.`,
        'Use the signer backend that matches the keyset (--backend kms for kms mode, --backend local for local).',
      );
    }
    const algorithm = KMS_SIGNING_ALGORITHM[key.alg];
    if (algorithm === undefined) {
      throw new IrsaError(
        'KEY_UNSUPPORTED',
        `Key ${key.kid} has algorithm ${String(key.alg)}, which the KMS signer does not support.`,
        'Use RSA_2048 (RS256) or ECC_NIST_P256 (ES256) keys.',
      );
    }
    const raw = signingInput.length <= KMS_RAW_MESSAGE_LIMIT;
    let signature: Uint8Array | undefined;
    try {
      const out = await this.#kms.send(
        new SignCommand({
          KeyId: key.location.keyArn ?? key.location.keyId,
          SigningAlgorithm: algorithm,
          MessageType: raw ? 'RAW' : 'DIGEST',
          Message: raw ? signingInput : createHash('sha256').update(signingInput).digest(),
        }),
      );
      signature = out.Signature;
    } catch (error) {
      throw mapKmsError(error, key);
    }
    if (signature === undefined || signature.length === 0) {
      throw new IrsaError(
        'SIGNING_FAILED',
        `KMS Sign returned no signature for kid ${key.kid}.`,
        'Retry; if it persists, check the KMS key state with `aws kms describe-key`.',
      );
    }
    return key.alg === 'ES256' ? derToJoseSignature(signature, 32) : signature;
  }
}

/**
 * Local-mode keys: software key pairs kept as PKCS#8 PEM files (0600, in a 0700 directory) under
 * the local state directory. Implements the same ports as KMS, so the local issuer, the signer's
 * local backend and the tests exercise the real rotation and signing code.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  type SignKeyObjectInput,
  sign,
} from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IrsaError } from '#core/errors.ts';
import type { KeyRecord, KeySpec } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';
import type { CreatedKey, KeyBackend, SigningBackend } from '#core/ports.ts';
import { atomicWriteFile } from './atomic-file.ts';

const generate = promisify(generateKeyPair);

/** Generates a key pair in memory for a key spec. Returns the private key and the DER SPKI. */
export async function generateSoftwareKey(
  spec: KeySpec,
): Promise<{ privateKey: KeyObject; publicKeySpki: Uint8Array }> {
  const pair =
    spec === 'RSA_2048'
      ? await generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
      : await generate('ec', { namedCurve: 'P-256' });
  const publicKeySpki = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
  return { privateKey: pair.privateKey, publicKeySpki };
}

/**
 * The key argument `crypto.sign('sha256', input, key)` takes for a JWS algorithm: the key itself
 * for RS256 (RSASSA-PKCS1-v1_5), and for ES256 the key with the signature in JOSE r||s form.
 */
export function signingKey(privateKey: KeyObject, alg: KeyRecord['alg']): KeyObject | SignKeyObjectInput {
  return alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey;
}

/**
 * Signs a JWS signing input with a private key: RSASSA-PKCS1-v1_5 SHA-256 (RS256) or ECDSA P-256
 * SHA-256 with the signature in JOSE r||s form (ES256).
 */
export function signWithKeyObject(
  privateKey: KeyObject,
  alg: KeyRecord['alg'],
  input: Uint8Array,
): Uint8Array {
  return new Uint8Array(sign('sha256', input, signingKey(privateKey, alg)));
}

/**
 * {@link signWithKeyObject} on libuv's thread pool: the signature (about 0.3 ms for RSA-2048) runs
 * off the event loop, so a signer serving concurrent Sign calls keeps answering while it signs and
 * signs on both cores.
 */
export function signWithKeyObjectAsync(
  privateKey: KeyObject,
  alg: KeyRecord['alg'],
  input: Uint8Array,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    sign('sha256', input, signingKey(privateKey, alg), (error, signature) =>
      error === null ? resolve(new Uint8Array(signature)) : reject(error),
    ),
  );
}

/** Software keys in `<stateDir>/keys/<kid>.pem`. */
export class LocalKeys implements KeyBackend, SigningBackend {
  private readonly cache = new Map<string, KeyObject>();

  /** @param stateDir the `state/` directory of the local layout. */
  constructor(private readonly stateDir: string) {}

  async create(spec: KeySpec): Promise<CreatedKey> {
    const { privateKey, publicKeySpki } = await generateSoftwareKey(spec);
    const file = `keys/${kidFromSpki(publicKeySpki)}.pem`;
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
    await atomicWriteFile(join(this.stateDir, file), pem, { mode: 0o600, dirMode: 0o700 });
    this.cache.set(file, privateKey);
    return { location: { type: 'local', file }, publicKeySpki };
  }

  async destroy(key: KeyRecord): Promise<void> {
    const file = this.fileOf(key);
    this.cache.delete(file);
    await rm(join(this.stateDir, file), { force: true });
  }

  async sign(key: KeyRecord, signingInput: Uint8Array): Promise<Uint8Array> {
    return signWithKeyObjectAsync(await this.privateKey(key), key.alg, signingInput);
  }

  /** Loads (and caches) the private key of a local key record. */
  async privateKey(key: KeyRecord): Promise<KeyObject> {
    const file = this.fileOf(key);
    const cached = this.cache.get(file);
    if (cached !== undefined) return cached;
    let pem: string;
    try {
      pem = await readFile(join(this.stateDir, file), 'utf8');
    } catch (error) {
      throw new IrsaError(
        'LOCAL_KEY_MISSING',
        `The private key file for kid ${key.kid} is missing (${file}).`,
        'Run `irsa-anywhere rotate --dir <dir> --now` to make a new key, or restore the file.',
        { cause: error },
      );
    }
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(pem);
    } catch (error) {
      throw new IrsaError(
        'LOCAL_KEY_INVALID',
        `The private key file for kid ${key.kid} is not a PEM private key (${file}).`,
        'Run `irsa-anywhere rotate --dir <dir> --now` to make a new key, or restore the file.',
        { cause: error },
      );
    }
    // A valid PEM of another key would sign tokens that never verify: it must be this kid's key.
    const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    if (!spki.equals(Buffer.from(key.publicKeySpki, 'base64'))) {
      throw new IrsaError(
        'LOCAL_KEY_INVALID',
        `The private key file for kid ${key.kid} (${file}) holds another key, not the one published for that kid.`,
        'Run `irsa-anywhere rotate --dir <dir> --now` to make a new key, or restore the file.',
      );
    }
    this.cache.set(file, privateKey);
    return privateKey;
  }

  private fileOf(key: KeyRecord): string {
    if (key.location.type !== 'local') {
      throw new IrsaError(
        'KEY_LOCATION_MISMATCH',
        `Key ${key.kid} lives in ${key.location.type}, not in local files.`,
        'Use the backend that matches the keyset (kms, file or local).',
      );
    }
    const file = key.location.file;
    // The location comes from keyset.json, which is input: never let it point outside keys/.
    if (!/^keys\/[A-Za-z0-9_-]{1,128}\.pem$/.test(file)) {
      throw new IrsaError(
        'KEYSET_CORRUPT',
        `Key ${key.kid} has an invalid local file "${file}".`,
        'Restore keyset.json from a backup; local key files are keys/<kid>.pem.',
      );
    }
    return file;
  }
}

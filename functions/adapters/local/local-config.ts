/**
 * `local.json`: what `irsa-anywhere local` was started with (issuer and rotation settings), so
 * `token`, `rotate` and `status` on the same directory use the same issuer and policy.
 */
import { readFile, stat } from 'node:fs/promises';
import { IrsaError } from '#core/errors.ts';
import { KEY_SPECS, type KeySpec } from '#core/keyset.ts';
import { DEFAULT_POLICY_INPUT, makePolicy, type PolicyInput, type RotationPolicy } from '#core/policy.ts';
import { atomicWriteFile } from './atomic-file.ts';
import { localPaths } from './fs-store.ts';

/** Contents of `local.json`. */
export interface LocalConfig {
  issuer: string;
  policy: PolicyInput;
}

/** Throws `LOCAL_DIR_MISSING` when `dir` has no local issuer state. */
export async function assertLocalDir(dir: string): Promise<void> {
  const info = await stat(localPaths(dir).keyset).catch(() => null);
  if (info === null) {
    throw new IrsaError(
      'LOCAL_DIR_MISSING',
      `No local issuer state in "${dir}" (no state/keyset.json).`,
      `Start the local issuer first: irsa-anywhere local --dir ${dir}`,
    );
  }
}

/** Parses a key spec flag or field. */
export function parseKeySpec(value: string, what = '--key-spec'): KeySpec {
  if (!(KEY_SPECS as readonly string[]).includes(value)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `${what} must be RSA_2048 or ECC_NIST_P256, got "${value}".`,
      `Pass ${what} RSA_2048 (default) or ${what} ECC_NIST_P256.`,
    );
  }
  return value as KeySpec;
}

/** Reads and validates `local.json`. */
export async function readLocalConfig(dir: string): Promise<{ config: LocalConfig; policy: RotationPolicy }> {
  const path = localPaths(dir).config;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new IrsaError(
      'LOCAL_CONFIG_INVALID',
      `Cannot read ${path}: ${(error as Error).message}.`,
      `Start the local issuer again to rewrite it: irsa-anywhere local --dir ${dir}`,
      { cause: error },
    );
  }
  const record = raw as { issuer?: unknown; policy?: Record<string, unknown> };
  if (typeof record?.issuer !== 'string' || typeof record.policy !== 'object' || record.policy === null) {
    throw new IrsaError(
      'LOCAL_CONFIG_INVALID',
      `${path} lacks "issuer" or "policy".`,
      `Start the local issuer again to rewrite it: irsa-anywhere local --dir ${dir}`,
    );
  }
  const policyInput: PolicyInput = { ...DEFAULT_POLICY_INPUT };
  for (const name of Object.keys(DEFAULT_POLICY_INPUT) as Array<keyof PolicyInput>) {
    const value = record.policy[name];
    if (value === undefined) continue;
    if (name === 'keySpec') policyInput.keySpec = parseKeySpec(String(value), `policy.keySpec in ${path}`);
    else if (typeof value === 'number') policyInput[name] = value;
    else
      throw new IrsaError(
        'LOCAL_CONFIG_INVALID',
        `policy.${name} in ${path} must be a number.`,
        `Fix ${path} or start the local issuer again.`,
      );
  }
  const config: LocalConfig = { issuer: record.issuer, policy: policyInput };
  return { config, policy: makePolicy(policyInput) };
}

/** Writes `local.json` atomically. */
export async function writeLocalConfig(dir: string, config: LocalConfig): Promise<void> {
  await atomicWriteFile(localPaths(dir).config, `${JSON.stringify(config, null, 2)}\n`, {
    mode: 0o644,
    dirMode: 0o700,
  });
}

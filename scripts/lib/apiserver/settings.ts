/**
 * Validates the desired kube-apiserver settings once, at the edge, so every planner can trust them.
 */
import { posix } from 'node:path';
import { IrsaError } from '#core/errors.ts';
import { validateIssuerUrl } from '#core/issuer.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { type ApiserverSettings, DEFAULT_KEY_DIR, DEFAULT_SIGNER_SOCKET, type SigningMode } from './types.ts';
import { parseVersionFlag } from './version.ts';

/** Unvalidated settings, as they come from flags. */
export interface SettingsInput {
  issuer: string;
  mode?: string;
  signerSocket?: string;
  keyDir?: string;
  audiences?: readonly string[];
  kubernetesVersion?: string;
  allowReplace?: boolean;
  podAnnotations?: Record<string, string>;
  /** Accept the local issuer (`http://` on a loopback host): the kind + local flow. */
  allowLoopbackHttp?: boolean;
}

function flagError(flag: string, problem: string, fix: string): IrsaError {
  return new IrsaError('FLAG_INVALID', `${flag} ${problem}.`, fix);
}

/** Paths end up inside flag values, mount specs (`src:dst`) and comma lists: keep them plain. */
function checkPath(flag: string, value: string): string {
  if (!value.startsWith('/') || /[\s,:'"=]/.test(value) || value.includes('\\')) {
    throw flagError(
      flag,
      `must be an absolute path without spaces, commas, colons, quotes or "=", got "${value}"`,
      `Pass ${flag} /an/absolute/path.`,
    );
  }
  const normalized = posix.normalize(value).replace(/\/+$/, '');
  if (normalized === '') throw flagError(flag, 'must not be "/"', `Pass ${flag} /a/dedicated/directory.`);
  return normalized;
}

/** Validates and normalises settings; throws `IrsaError` naming the bad flag. */
export function normalizeSettings(input: SettingsInput): ApiserverSettings {
  const issuer = validateIssuerUrl(input.issuer, { allowLoopbackHttp: input.allowLoopbackHttp === true });
  const mode = (input.mode ?? 'kms') as SigningMode;
  if (mode !== 'kms' && mode !== 'file') {
    throw flagError(
      '--mode',
      `must be "kms" or "file", got "${input.mode}"`,
      'Pass --mode kms or --mode file.',
    );
  }
  const socketInput = input.signerSocket ?? DEFAULT_SIGNER_SOCKET;
  const signerSocket =
    socketInput.startsWith('@') && /^@[A-Za-z0-9._/-]+$/.test(socketInput)
      ? socketInput
      : checkPath('--signer-socket', socketInput);
  const keyDir = checkPath('--key-dir', input.keyDir ?? DEFAULT_KEY_DIR);
  const audiences = [DEFAULT_AUDIENCE];
  for (const raw of input.audiences ?? []) {
    const audience = raw.trim();
    if (audience === '') continue;
    if (/[\s,]/.test(audience) || audience.length > 255) {
      throw flagError(
        '--audiences',
        `has an invalid audience "${audience}" (no spaces, at most 255 characters)`,
        'Pass --audiences as a comma-separated list, e.g. sts.amazonaws.com,vault.',
      );
    }
    if (!audiences.includes(audience)) audiences.push(audience);
  }
  const settings: ApiserverSettings = { issuer, mode, signerSocket, keyDir, audiences };
  if (input.kubernetesVersion !== undefined) {
    settings.kubernetesVersion = parseVersionFlag(input.kubernetesVersion);
  }
  if (input.allowReplace === true) settings.allowReplace = true;
  if (input.podAnnotations !== undefined) settings.podAnnotations = { ...input.podAnnotations };
  return settings;
}

/** `<key-dir>/signing.key` and `<key-dir>/verification.pem`. */
export function keyFilePaths(settings: ApiserverSettings): { signingKey: string; verification: string } {
  return {
    signingKey: `${settings.keyDir}/signing.key`,
    verification: `${settings.keyDir}/verification.pem`,
  };
}

/** The directory that must be visible inside the kube-apiserver container, or null (abstract socket). */
export function requiredHostDir(settings: ApiserverSettings): string | null {
  if (settings.mode === 'file') return settings.keyDir;
  if (settings.signerSocket.startsWith('@')) return null;
  return posix.dirname(settings.signerSocket);
}

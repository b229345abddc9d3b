/**
 * The kube-apiserver flag rules shared by every distro: which issuers, audiences, key files and
 * signing endpoint the flags must hold, given what they hold now. Format-neutral: it works on an
 * {@link ArgStore}, and each distro planner supplies one.
 */
import { IrsaError } from '#core/errors.ts';
import type { ArgStore } from './arg-store.ts';
import { keyFilePaths } from './settings.ts';
import { type ApiserverSettings, type Change, EXTERNAL_SIGNER_GATE } from './types.ts';
import { checkFileModeVersion, type KubeVersion, kmsRequirement, UNKNOWN_VERSION_NOTE } from './version.ts';

/** The kube-apiserver flags this tool manages, without the leading dashes. */
export const FLAG = {
  issuer: 'service-account-issuer',
  jwksUri: 'service-account-jwks-uri',
  audiences: 'api-audiences',
  endpoint: 'service-account-signing-endpoint',
  signingKey: 'service-account-signing-key-file',
  keyFile: 'service-account-key-file',
  gates: 'feature-gates',
} as const;

/** What the distro sets when a flag is absent from the config (kubeadm adds its own defaults). */
export interface FlagDefaults {
  issuers?: string[];
  keyFiles?: string[];
  signingKeyFile?: string;
}

/** Inputs of {@link planFlags}. */
export interface FlagPlanInput {
  args: ArgStore;
  settings: ApiserverSettings;
  version: KubeVersion | null;
  /** Names the config in messages, e.g. "kube-apiserver.yaml". */
  where: string;
  defaults?: FlagDefaults;
  /**
   * False where the format cannot drop the key-file flags (kubeadm always adds them): kms mode then
   * leaves the endpoint and key files alone and says how to finish on the node.
   */
  endpointSupported?: boolean;
}

/** Note for formats where kubeadm adds the key-file flags itself. */
export const KUBEADM_KMS_NOTE =
  'kubeadm always adds --service-account-key-file and --service-account-signing-key-file to kube-apiserver, ' +
  'and they cannot be combined with --service-account-signing-endpoint, so this config sets the issuer, ' +
  'audiences and mounts only. After `kubeadm init`, `kubeadm join --control-plane` or `kubeadm upgrade`, run ' +
  '`irsa-anywhere apiserver configure --distro kubeadm --mode kms` on each control-plane node to switch the ' +
  'static pod to the signer.';

/** What {@link planFlags} changed, and what the operator must know. */
export interface FlagPlan {
  changes: Change[];
  notes: string[];
}

/** Said whenever the issuer is the local (http, loopback) issuer. */
export const LOCAL_ISSUER_NOTE =
  'The issuer is the local http issuer: for a test cluster only. kube-apiserver accepts it but then serves no ' +
  'discovery documents, and --service-account-jwks-uri (which must be https) is left out; the local issuer ' +
  'serves the JWKS itself, and `irsa-anywhere verify --issuer <issuer>` checks tokens against it.';

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function conflict(where: string, problem: string, fix: string): IrsaError {
  return new IrsaError('APISERVER_CONFLICTING_FLAGS', `${where}: ${problem}.`, fix);
}

/** Fails when a flag that takes one value is given several times. */
function single(args: ArgStore, name: string, where: string): string | undefined {
  const values = args.get(name);
  if (values.length > 1) {
    throw conflict(
      where,
      `--${name} is set ${values.length} times (${values.join(', ')})`,
      `Keep one --${name} by hand, then run again.`,
    );
  }
  return values[0];
}

/** Parses `A=true,B=false` keeping order. */
function parseGates(value: string, where: string): Array<[string, string]> {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IrsaError(
          'APISERVER_CONFIG_INVALID',
          `${where}: --feature-gates entry "${part}" is not Name=true|false.`,
          'Fix --feature-gates by hand, then run again.',
        );
      }
      return [part.slice(0, eq), part.slice(eq + 1)];
    });
}

/**
 * Plans the flags for the desired settings and applies them to `args`. Throws before touching
 * anything when the flags conflict in a way a person has to resolve.
 */
export function planFlags(input: FlagPlanInput): FlagPlan {
  const { args, settings, where } = input;
  const defaults = input.defaults ?? {};
  const changes: Change[] = [];
  const notes: string[] = [];
  const { signingKey: ourSigningKey, verification: ourBundle } = keyFilePaths(settings);

  // Checks first: nothing is changed until every check has passed.
  const endpoint = single(args, FLAG.endpoint, where);
  const signingKey = single(args, FLAG.signingKey, where);
  single(args, FLAG.jwksUri, where);
  const gatesValue = single(args, FLAG.gates, where);
  const keyFiles = args.get(FLAG.keyFile);
  if (endpoint !== undefined && (signingKey !== undefined || keyFiles.length > 0)) {
    throw conflict(
      where,
      `--${FLAG.endpoint} is set together with --${FLAG.signingKey}/--${FLAG.keyFile}; kube-apiserver refuses that combination`,
      'Remove one of them by hand (kms mode uses the endpoint, file mode the key files), then run again.',
    );
  }
  if (endpoint !== undefined && endpoint !== settings.signerSocket) {
    throw conflict(
      where,
      `--${FLAG.endpoint} already points at another signer (${endpoint})`,
      `Pass --signer-socket ${endpoint} to keep it, or remove that flag by hand if you mean to replace that signer.`,
    );
  }
  const gates = parseGates(gatesValue ?? '', where);
  const gate = gates.find(([name]) => name === EXTERNAL_SIGNER_GATE);
  if (settings.mode === 'kms' && gate !== undefined && gate[1].toLowerCase() !== 'true') {
    throw conflict(
      where,
      `--feature-gates sets ${EXTERNAL_SIGNER_GATE}=${gate[1]}, which turns the external signer off`,
      `Remove ${EXTERNAL_SIGNER_GATE}=${gate[1]} from --feature-gates by hand, or use --mode file.`,
    );
  }
  const requirement = settings.mode === 'kms' ? kmsRequirement(input.version) : 'none';
  if (settings.mode === 'file') checkFileModeVersion(input.version);

  const currentIssuers = args.get(FLAG.issuer);
  const oldIssuers = currentIssuers.length > 0 ? currentIssuers : (defaults.issuers ?? []);
  const issuers = fitSingle(
    args,
    FLAG.issuer,
    dedupe([settings.issuer, ...oldIssuers]),
    settings.issuer,
    settings,
    where,
    notes,
  );

  const currentAudiences = args.get(FLAG.audiences);
  const audienceBase =
    currentAudiences.length > 0
      ? currentAudiences.flatMap((value) => value.split(',').map((a) => a.trim()))
      : [oldIssuers[0] ?? settings.issuer];
  const audiences = [dedupe([...audienceBase, ...settings.audiences].filter((a) => a !== '')).join(',')];

  let desiredKeyFiles: string[] = [];
  let desiredSigningKey: string[] = [];
  if (settings.mode === 'file') {
    const oldSigning = signingKey ?? defaults.signingKeyFile;
    // Without key files kube-apiserver verifies with the signing key; keep that key verifying.
    const oldKeys =
      keyFiles.length > 0
        ? keyFiles
        : (defaults.keyFiles ??
          (oldSigning !== undefined && oldSigning !== ourSigningKey ? [oldSigning] : []));
    desiredKeyFiles = fitSingle(
      args,
      FLAG.keyFile,
      dedupe([...oldKeys, ourBundle]),
      ourBundle,
      settings,
      where,
      notes,
    );
    desiredSigningKey = [ourSigningKey];
  }

  const apply = (name: string, desired: string[]): void => {
    const current = args.get(name);
    if (sameList(current, desired)) return;
    args.set(name, desired);
    const change: Change = {
      action: current.length === 0 ? 'add' : desired.length === 0 ? 'remove' : 'set',
      target: `--${name}`,
    };
    if (current.length > 0) change.before = current;
    if (desired.length > 0) change.after = desired;
    changes.push(change);
  };

  apply(FLAG.issuer, issuers);
  // kube-apiserver refuses to start with an http --service-account-jwks-uri; with an http (loopback,
  // local-mode) issuer it serves no discovery at all, so the flag is left out.
  const localIssuer = settings.issuer.startsWith('http://');
  apply(FLAG.jwksUri, localIssuer ? [] : [`${settings.issuer}/openid/v1/jwks`]);
  if (localIssuer) notes.push(LOCAL_ISSUER_NOTE);
  apply(FLAG.audiences, audiences);
  if (settings.mode === 'kms' && input.endpointSupported === false) {
    if (requirement === 'gate' && gate === undefined) {
      apply(FLAG.gates, [[...gates, [EXTERNAL_SIGNER_GATE, 'true']].map(([n, v]) => `${n}=${v}`).join(',')]);
    }
    if (requirement === 'unknown') notes.push(UNKNOWN_VERSION_NOTE);
    notes.push(KUBEADM_KMS_NOTE);
  } else if (settings.mode === 'kms') {
    const removed = [...(signingKey !== undefined ? [signingKey] : []), ...keyFiles];
    apply(FLAG.signingKey, []);
    apply(FLAG.keyFile, []);
    if (removed.length > 0) {
      notes.push(
        `Removed the key-file flags (${removed.join(', ')}): kube-apiserver cannot combine them with the ` +
          'signing endpoint, and from its restart on only the keys the signer serves verify tokens. Tokens ' +
          `the old keys signed keep verifying only if the signer runs with --extra-public-key <file> for ` +
          `each old --${FLAG.keyFile} (\`signer install\` adds them by default; on the node, \`apiserver ` +
          'configure` checks this before writing).',
      );
    }
    apply(FLAG.endpoint, [settings.signerSocket]);
    if (requirement === 'gate' && gate === undefined) {
      apply(FLAG.gates, [[...gates, [EXTERNAL_SIGNER_GATE, 'true']].map(([n, v]) => `${n}=${v}`).join(',')]);
    }
    if (requirement === 'unknown') notes.push(UNKNOWN_VERSION_NOTE);
  } else {
    apply(FLAG.endpoint, []);
    apply(FLAG.signingKey, desiredSigningKey);
    apply(FLAG.keyFile, desiredKeyFiles);
  }
  return { changes, notes };
}

/** In a map form only one value fits; dropping the old ones needs the operator's consent. */
function fitSingle(
  args: ArgStore,
  name: string,
  desired: string[],
  ours: string,
  settings: ApiserverSettings,
  where: string,
  notes: string[],
): string[] {
  if (args.repeatable || desired.length <= 1) return desired;
  const old = desired.filter((value) => value !== ours);
  if (settings.allowReplace === true) {
    notes.push(`--allow-replace: --${name} now holds only ${ours}; ${old.join(', ')} is no longer accepted.`);
    return [ours];
  }
  throw new IrsaError(
    'APISERVER_SINGLE_VALUE_FORMAT',
    `${where} holds one value per flag, so --${name} cannot keep ${old.join(', ')} beside ${ours}; tokens that rely on the old value would stop verifying.`,
    'Use a list form (kubeadm v1beta4, or edit the static pod with --distro kubeadm), or pass --allow-replace to accept that.',
  );
}

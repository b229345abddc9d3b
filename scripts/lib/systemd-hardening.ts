/**
 * The sandbox shared by the units irsa-anywhere writes (the signer's service, key-sync's service):
 * no capabilities, only the address families AWS and the socket need, the system-call set of an
 * ordinary service, and the host read-only except the paths the unit writes.
 * `systemd-analyze security --offline=yes` scores each unit at most 4.0 (test/scripts/lib/systemd).
 *
 * Not set, on purpose:
 * - `MemoryDenyWriteExecute=yes`: V8's JIT writes machine code into pages it then executes; under
 *   MDWE Node only runs with `--jitless`, which also removes WebAssembly (Node's `fetch` parses
 *   HTTP with it). Both services are light enough for the JIT to matter little, but a runtime flag
 *   that breaks part of Node is not worth 0.1 of exposure score.
 * - `PrivateUsers=yes`: it would map root to nobody, and the files these units write must belong
 *   to root (kube-apiserver reads them).
 * - `IPAddressDeny=`: AWS endpoints have no fixed addresses.
 */

/** Quotes one argument for an `Exec*=` line. */
export function systemdQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Where the unit may write; everything else on the host is read-only. */
export interface SandboxPaths {
  readWrite: readonly string[];
}

/** Sandbox lines for a `[Service]` section. */
export function hardeningLines(paths: SandboxPaths): string[] {
  return [
    'UMask=0077',
    'NoNewPrivileges=yes',
    // Root, or any user, with no capability: file access is by ownership and mode alone.
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'ProtectSystem=strict',
    ...[...new Set(paths.readWrite)].map((path) => `ReadWritePaths=${path}`),
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'DevicePolicy=closed',
    'PrivateMounts=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    // Other processes' /proc entries are hidden. Not ProcSubset=pid: libuv reads /proc/stat and
    // /proc/meminfo (os.cpus(), os.totalmem()).
    'ProtectProc=invisible',
    // AF_UNIX for the socket and journald, AF_INET/AF_INET6 for AWS and the metrics listener.
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'RemoveIPC=yes',
    'KeyringMode=private',
    'SystemCallArchitectures=native',
    // A refused call fails with EPERM instead of killing the process: libuv probes io_uring and
    // falls back to its thread pool when that fails.
    'SystemCallFilter=@system-service',
    'SystemCallErrorNumber=EPERM',
  ];
}

/** Where the units look for AWS credentials that are not the instance profile. */
export const AWS_ENV_FILE = '/etc/irsa-anywhere/aws.env';
export const AWS_CONFIG_DIR = '/etc/irsa-anywhere/aws';

/**
 * AWS credentials for a sandboxed unit. The instance profile (IMDS) needs nothing. Otherwise
 * `ProtectHome=yes` hides /root/.aws, so the unit reads `AWS_*` variables from an optional
 * environment file, or a profile from a config directory of its own (docs/install.md).
 */
export function awsCredentialLines(): string[] {
  return [
    `# AWS credentials: the instance profile needs nothing; else AWS_* lines in ${AWS_ENV_FILE},`,
    `# or a profile in ${AWS_CONFIG_DIR}/config and ${AWS_CONFIG_DIR}/credentials (root-owned, 0600).`,
    `Environment=AWS_CONFIG_FILE=${AWS_CONFIG_DIR}/config AWS_SHARED_CREDENTIALS_FILE=${AWS_CONFIG_DIR}/credentials`,
    // Read after Environment=, so the file may point AWS_CONFIG_FILE elsewhere too.
    `EnvironmentFile=-${AWS_ENV_FILE}`,
  ];
}

/**
 * Deployment files for the signer on a control-plane node: a systemd unit that starts it before
 * kubelet (and so before the kube-apiserver static pod), or a static pod manifest. Rendering is
 * pure; `writeInstallFile` writes through the file-change module (atomic, backup in the backup
 * directory, nothing on a second run).
 */
import { stringify } from 'yaml';
import { IrsaError } from '#core/errors.ts';
import { changeFiles, DEFAULT_BACKUP_DIR } from '../file-change.ts';
import { awsCredentialLines, hardeningLines, systemdQuote } from '../systemd-hardening.ts';

import { DEFAULT_BIN } from './paths.ts';

export { DEFAULT_BIN, STATIC_POD_PATH, SYSTEMD_UNIT_PATH } from './paths.ts';

/** The `signer serve` flags every backend has. */
interface ServeFlagsBase {
  region?: string;
  socket: string;
  extraPublicKeys: readonly string[];
  maxTokenExpirationSeconds?: number;
  maxTokenLifetimeSeconds?: number;
  refreshSeconds?: number;
}

/**
 * The `signer serve` flags baked into the unit or pod: a union on the backend, so a kms signer
 * always has its `--state` and a local one its `--dir`, and neither has the other's.
 */
export type ServeFlags =
  | (ServeFlagsBase & { backend: 'kms'; state: string })
  | (ServeFlagsBase & { backend: 'local'; dir: string });

/** The argument vector of `signer serve` for these flags. */
export function serveArgs(flags: ServeFlags): string[] {
  const args = ['signer', 'serve', '--backend', flags.backend, '--socket', flags.socket];
  if (flags.backend === 'kms') args.push('--state', flags.state);
  if (flags.region !== undefined) args.push('--region', flags.region);
  if (flags.backend === 'local') args.push('--dir', flags.dir);
  for (const file of flags.extraPublicKeys) args.push('--extra-public-key', file);
  if (flags.maxTokenExpirationSeconds !== undefined) {
    args.push('--max-token-expiration-seconds', String(flags.maxTokenExpirationSeconds));
  }
  if (flags.maxTokenLifetimeSeconds !== undefined) {
    args.push('--max-token-lifetime-seconds', String(flags.maxTokenLifetimeSeconds));
  }
  if (flags.refreshSeconds !== undefined) args.push('--refresh-seconds', String(flags.refreshSeconds));
  return args;
}

/**
 * Checks `--bin` and `--user` for the unit. systemd runs ExecStart without a shell or the user's
 * PATH, so the path must be absolute; `nobody` owns files of other services' unmapped users, and
 * systemd warns that running as it is unsafe, so a dedicated user (or root) is required.
 */
export function checkUnitOptions(options: { bin: string; user: string }): void {
  if (!options.bin.startsWith('/') || /[\s%$"\\]/.test(options.bin)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--bin must be an absolute path without spaces, "%" or "$", got "${options.bin}".`,
      'Pass --bin /usr/local/bin/irsa-anywhere (see `command -v irsa-anywhere`).',
    );
  }
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(options.user) || options.user === 'nobody') {
    throw new IrsaError(
      'FLAG_INVALID',
      options.user === 'nobody'
        ? '--user nobody is refused: files of unmapped users belong to nobody, and systemd calls running as it unsafe.'
        : `--user must be a user name, got "${options.user}".`,
      'Pass --user root (the default) or a dedicated system user, e.g. useradd --system irsa-signer.',
    );
  }
}

function socketDir(socket: string): string | null {
  if (socket.startsWith('@')) return null;
  const path = socket.startsWith('unix://') ? socket.slice('unix://'.length) : socket;
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

/**
 * A systemd unit: ordered before kubelet.service, restarted always, its socket directory created
 * 0700 by systemd (`RuntimeDirectory`), and "started" only once the socket exists, so the
 * kube-apiserver static pod that kubelet launches finds it.
 */
export function renderSystemdUnit(flags: ServeFlags, options: { bin?: string; user?: string } = {}): string {
  const bin = options.bin ?? DEFAULT_BIN;
  const user = options.user ?? 'root';
  checkUnitOptions({ bin, user });
  const exec = [bin, ...serveArgs(flags)].map(systemdQuote).join(' ');
  const dir = socketDir(flags.socket);
  const runtime =
    dir === '/run/irsa-anywhere'
      ? ['RuntimeDirectory=irsa-anywhere', 'RuntimeDirectoryMode=0700', 'RuntimeDirectoryPreserve=restart']
      : [];
  const socketPath = flags.socket.startsWith('unix://') ? flags.socket.slice('unix://'.length) : flags.socket;
  const waitForSocket = flags.socket.startsWith('@')
    ? []
    : [
        // No `$` in the line: systemd would expand it as an environment variable.
        `ExecStartPost=/usr/bin/timeout 10 /bin/sh -c 'until [ -S ${socketPath} ]; do sleep 0.1; done'`,
      ];
  return [
    '# Written by `irsa-anywhere signer install`. ExternalJWTSigner for kube-apiserver (KEP-740).',
    '[Unit]',
    'Description=irsa-anywhere service-account token signer (ExternalJWTSigner)',
    'Wants=network-online.target',
    'After=network-online.target',
    'Before=kubelet.service',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    ...waitForSocket,
    'Restart=always',
    'RestartSec=2',
    'TimeoutStopSec=15',
    'KillSignal=SIGTERM',
    `User=${user}`,
    `Group=${user}`,
    ...runtime,
    ...(flags.backend === 'kms' ? awsCredentialLines() : []),
    ...hardeningLines({
      readWrite: [
        ...(dir !== null && dir !== '/run/irsa-anywhere' ? [dir] : []),
        ...(flags.backend === 'local' ? [flags.dir] : []),
      ],
    }),
    '',
    '[Install]',
    'WantedBy=multi-user.target kubelet.service',
    '',
  ].join('\n');
}

/**
 * A static pod manifest for nodes that run everything as pods. kubelet starts static pods in no
 * particular order, so kube-apiserver may restart until the signer's socket exists.
 */
export function renderStaticPod(flags: ServeFlags, options: { image: string }): string {
  const dir = socketDir(flags.socket);
  const volumes: Array<Record<string, unknown>> = [];
  const mounts: Array<Record<string, unknown>> = [];
  if (dir !== null) {
    volumes.push({ name: 'socket-dir', hostPath: { path: dir, type: 'DirectoryOrCreate' } });
    mounts.push({ name: 'socket-dir', mountPath: dir });
  }
  flags.extraPublicKeys.forEach((file, i) => {
    volumes.push({ name: `extra-key-${i}`, hostPath: { path: file, type: 'File' } });
    mounts.push({ name: `extra-key-${i}`, mountPath: file, readOnly: true });
  });
  if (flags.backend === 'local') {
    volumes.push({ name: 'local-dir', hostPath: { path: flags.dir, type: 'Directory' } });
    mounts.push({ name: 'local-dir', mountPath: flags.dir });
  }
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'irsa-anywhere-signer',
      namespace: 'kube-system',
      labels: { component: 'irsa-anywhere-signer', tier: 'control-plane' },
    },
    spec: {
      // Host network: instance credentials (IMDS) and abstract sockets live in the host namespace.
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      containers: [
        {
          name: 'signer',
          image: options.image,
          command: ['irsa-anywhere', ...serveArgs(flags)],
          securityContext: {
            runAsUser: 0,
            runAsGroup: 0,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
          },
          resources: { requests: { cpu: '10m', memory: '64Mi' } },
          volumeMounts: mounts,
        },
      ],
      volumes,
    },
  };
  return `# Written by \`irsa-anywhere signer install --static-pod\`.\n${stringify(pod)}`;
}

/** The outcome of writing an install file. */
export interface WriteResult {
  changed: boolean;
  diff: string;
  backup?: string;
}

/**
 * Writes `content` to `path` through the file-change module (0644). Unchanged content writes
 * nothing; a changed file is first copied into `backupDir`, never beside it (kubelet would run a
 * `.bak` in its manifests directory as a second pod). With `dryRun`, only the diff is computed.
 */
export async function writeInstallFile(
  path: string,
  content: string,
  options: { dryRun?: boolean; backupDir?: string; now?: Date } = {},
): Promise<WriteResult> {
  const [result] = await changeFiles([{ path, content, write: { mode: 0o644 } }], {
    dryRun: options.dryRun === true,
    backupDir: options.backupDir ?? DEFAULT_BACKUP_DIR,
    now: options.now ?? new Date(),
  });
  if (result === undefined || !result.changed) return { changed: false, diff: '' };
  return {
    changed: true,
    diff: result.diff,
    ...(result.backup === undefined ? {} : { backup: result.backup }),
  };
}

/**
 * `key-sync install-timer`: a systemd oneshot service running `key-sync --once` and a timer that
 * starts it at boot and then every interval.
 */
import { IrsaError } from '#core/errors.ts';
import { awsCredentialLines, hardeningLines, systemdQuote } from '../systemd-hardening.ts';

/** What the systemd units run, and how often. */
export interface TimerOptions {
  /** Absolute path of the irsa-anywhere executable. */
  bin: string;
  /** Arguments after `key-sync --once`, already validated by the caller. */
  args: string[];
  /** systemd time span, e.g. `5min`. */
  interval: string;
  unitName: string;
  /** Directories key-sync creates if missing and writes (the key and backup directories). */
  dirs: string[];
  /** Further directories it writes in place (the one holding the kube-apiserver config). */
  writable: string[];
}

/** Checks the options so a bad value fails here, not at `systemctl daemon-reload`. */
export function validateTimerOptions(options: TimerOptions): TimerOptions {
  if (!options.bin.startsWith('/') || /\s/.test(options.bin)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--bin must be an absolute path, got "${options.bin}".`,
      'Pass --bin /usr/local/bin/irsa-anywhere (see `command -v irsa-anywhere`).',
    );
  }
  if (!/^\d+(us|ms|s|sec|m|min|h|hr|d)$/.test(options.interval)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--every must be a systemd time span like 5min, got "${options.interval}".`,
      'Pass --every 5min.',
    );
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(options.unitName)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--unit-name "${options.unitName}" is not a valid unit name.`,
      'Pass --unit-name irsa-anywhere-key-sync.',
    );
  }
  if ([...options.dirs, ...options.writable].some((dir) => !dir.startsWith('/') || /[\s%$"\\]/.test(dir))) {
    throw new IrsaError(
      'FLAG_INVALID',
      'The key, backup and config paths of the timer must be absolute, without spaces, "%" or "$".',
      'Pass absolute paths, e.g. --key-dir /etc/irsa-anywhere/keys.',
    );
  }
  if (options.args.some((arg) => /[\n\r%$]/.test(arg))) {
    throw new IrsaError(
      'FLAG_INVALID',
      'An argument holds a newline, "%" or "$", which systemd would expand.',
      'Pass plain paths and names.',
    );
  }
  return options;
}

/** The service and timer unit texts. */
export function renderUnits(options: TimerOptions): { service: string; timer: string } {
  const exec = [options.bin, 'key-sync', '--once', ...options.args].map(systemdQuote).join(' ');
  const service = `[Unit]
Description=irsa-anywhere key-sync: install the active service-account signing key for kube-apiserver
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
# The sandbox makes the host read-only, so the directories are made (as root, unsandboxed: "+")
# before key-sync runs in it; key-sync itself sets their modes.
ExecStartPre=+/bin/mkdir -p ${options.dirs.join(' ')}
ExecStart=${exec}
${[...awsCredentialLines(), ...hardeningLines({ readWrite: [...options.dirs, ...options.writable] })].join('\n')}
`;
  const timer = `[Unit]
Description=Run irsa-anywhere key-sync every ${options.interval}

[Timer]
OnBootSec=30s
OnUnitActiveSec=${options.interval}
RandomizedDelaySec=30s
Persistent=true

[Install]
WantedBy=timers.target
`;
  return { service, timer };
}

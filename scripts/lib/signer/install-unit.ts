/**
 * Where `signer install --write <path>` puts the systemd unit decides its name: systemd loads
 * `<name>.service` files only, and `systemctl enable` takes the unit name from the file name (or the
 * file's path when it lies outside the unit search path). The "next:" hint must name that unit.
 */
import { basename, dirname, resolve } from 'node:path';
import { IrsaError } from '#core/errors.ts';

/** systemd's unit search path for system units (systemd.unit(5)). */
const UNIT_DIRS = new Set([
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
]);

/** Checks a `--write` path for the unit; returns it absolute. Throws FLAG_INVALID naming the fix. */
export function checkUnitPath(path: string): string {
  const absolute = resolve(path);
  const name = basename(absolute);
  // A template (`x@.service`) cannot be enabled as is; other characters systemd refuses in names.
  if (!/^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]+)?\.service$/.test(name)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--write ${path}: systemd loads a service only from a file named <name>.service, got "${name}".`,
      'Pass --write /etc/systemd/system/irsa-anywhere-signer.service (or another <name>.service path).',
    );
  }
  return absolute;
}

/** The commands that start the unit written at `path` (absolute). */
export function enableHint(path: string): string {
  const unit = UNIT_DIRS.has(dirname(path)) ? basename(path) : path;
  return `systemctl daemon-reload && systemctl enable --now ${unit}`;
}

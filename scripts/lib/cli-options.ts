/**
 * The options several commands share, declared once (as eksctl's cmdutils does) so their names,
 * value placeholders and meaning cannot drift apart. Each takes the command's own help sentence.
 */
import { Option } from 'commander';
import { DEFAULT_BACKUP_DIR } from './file-change.ts';

/** `--json`: machine-readable output on stdout; failures print `{"ok": false, ...}` there too. */
export function jsonOption(help = 'print the result as JSON'): Option {
  return new Option('--json', help);
}

/** `--dry-run`: show what would change and write nothing. */
export function dryRunOption(help = 'print what would change and write nothing'): Option {
  return new Option('--dry-run', help);
}

/** `--region <region>`: the AWS region (resolved by the CLI's AWS client factory when absent). */
export function regionOption(help = 'AWS region (default: AWS_REGION, then the AWS config)'): Option {
  return new Option('--region <region>', help);
}

/** `--stack <name>`: a deployed stack, whose outputs name the buckets, functions and issuer. */
export function stackOption(help = 'a deployed stack (reads its outputs)'): Option {
  return new Option('--stack <name>', help);
}

/** `--backup-dir <dir>`: where the file-change module keeps previous versions (never beside them). */
export function backupDirOption(help = 'where previous versions of changed files are kept'): Option {
  return new Option('--backup-dir <dir>', help).default(DEFAULT_BACKUP_DIR);
}

/**
 * `cli`: how long the CLI takes to start and answer, in wall time from spawn to exit, against
 * `node -e 0` (node's own start, the floor) in the same rounds: `--help`, and `status --dir D` on a
 * local issuer directory, through the bundled CLI (dist/irsa-anywhere.mjs, built by
 * `npm run build`) and through the source entry (scripts/bin.mjs, TypeScript through tsx).
 * Commands run in a rotating order each round; ratios are medians of per-round ratios.
 */
import { execFile, spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { writeLocalConfig } from '#adapters/local/local-config.ts';
import { IrsaError } from '#core/errors.ts';
import { DEFAULT_POLICY_INPUT } from '#core/policy.ts';
import { writeLocalKeyset } from '#scripts/lib/signer/temp-signer.ts';
import type { CliEntryFigures, CliFigures } from './report.ts';
import { median, rotated, round } from './stats.ts';

const run = promisify(execFile);

/** The bundled CLI, relative to the repository root. */
export const CLI_BUNDLE = 'dist/irsa-anywhere.mjs';

/** Wall time of one command, spawn to exit; a non-zero exit is an error (the figure would lie). */
export async function wallMs(args: readonly string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const ms = performance.now() - t0;
  if (code !== 0) {
    throw new IrsaError(
      'BENCH_CLI_FAILED',
      `\`node ${args.join(' ')}\` exited with code ${code}.`,
      `Run \`node ${args.join(' ')}\` by hand in the repository to see its error.`,
    );
  }
  return ms;
}

/**
 * Makes sure the bundle exists: builds it with `npm run build` when it is absent and the script
 * exists. Answers null when it is there, or the reason it is not.
 */
export async function ensureBundle(
  root: string,
  progress?: (message: string) => void,
): Promise<string | null> {
  const bundle = join(root, CLI_BUNDLE);
  const present = () =>
    access(bundle).then(
      () => true,
      () => false,
    );
  if (await present()) return null;
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  if (pkg.scripts?.build === undefined) {
    return `${CLI_BUNDLE} is absent and package.json has no "build" script to make it`;
  }
  progress?.(`cli: ${CLI_BUNDLE} is absent; running npm run build`);
  try {
    await run('npm', ['run', '-s', 'build'], { cwd: root, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const tail = (e.stderr ?? e.message).trim().split('\n').slice(-3).join(' | ');
    return `npm run build failed: ${tail}`;
  }
  return (await present()) ? null : `npm run build did not write ${CLI_BUNDLE}`;
}

type Entry = 'bundle' | 'source';
type Command = { key: string; args: string[] };

/** Medians of wall times and of per-round ratios to the floor for one entry. */
export function entryFigures(help: number[], status: number[], floor: number[]): CliEntryFigures {
  return {
    helpMs: round(median(help), 1),
    statusMs: round(median(status), 1),
    helpRatio: round(median(help.map((ms, i) => ms / (floor[i] as number))), 2),
    statusRatio: round(median(status.map((ms, i) => ms / (floor[i] as number))), 2),
  };
}

/** Runs the CLI start benchmark. */
export async function benchCliStart(options: {
  root: string;
  rounds: number;
  progress?: (message: string) => void;
}): Promise<CliFigures> {
  const missing = await ensureBundle(options.root, options.progress);
  const dir = await mkdtemp(join(tmpdir(), 'irsa-bench-cli-'));
  try {
    const issuerDir = join(dir, 'issuer');
    const issuer = 'http://127.0.0.1:8443/bench';
    await writeLocalKeyset(issuerDir, [{ spec: 'RSA_2048', state: 'active' }], { issuer });
    await writeLocalConfig(issuerDir, { issuer, policy: DEFAULT_POLICY_INPUT });
    const entries: Entry[] = missing === null ? ['bundle', 'source'] : ['source'];
    const entryPath: Record<Entry, string> = { bundle: CLI_BUNDLE, source: 'scripts/bin.mjs' };
    const commands: Command[] = [{ key: 'floor', args: ['-e', '0'] }];
    for (const entry of entries) {
      commands.push(
        { key: `${entry}/help`, args: [entryPath[entry], '--help'] },
        { key: `${entry}/status`, args: [entryPath[entry], 'status', '--dir', issuerDir] },
      );
    }
    const times = new Map<string, number[]>(commands.map((c) => [c.key, []]));
    // One untimed run each: the disk cache, and a failing command fails before the rounds.
    for (const command of commands) await wallMs(command.args, options.root);
    for (let r = 0; r < options.rounds; r += 1) {
      options.progress?.(`cli: round ${r + 1}/${options.rounds}`);
      for (const command of rotated(commands, r))
        times.get(command.key)?.push(await wallMs(command.args, options.root));
    }
    const floor = times.get('floor') as number[];
    const figures = (entry: Entry) =>
      entryFigures(times.get(`${entry}/help`) ?? [], times.get(`${entry}/status`) ?? [], floor);
    return {
      floorMs: round(median(floor), 1),
      bundle: missing === null ? figures('bundle') : { missing },
      source: figures('source'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `bundles`: each Lambda function exactly as deployed. `npx serverless package` builds the real
 * artifacts (serverless-esbuild with the options in serverless.yml, the same zipper); `zipBytes`
 * is the artifact's size, `bytes` the bundle's size inside it. `importMs` is the median time to
 * `await import()` the bundle in a fresh `node` process; `floorImportMs` the same for an empty ESM
 * handler, measured in the same rounds, so the ratio says what our code adds to a cold start.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { IrsaError } from '#core/errors.ts';
import type { BundleFigures } from './report.ts';
import { median, round } from './stats.ts';
import { readZip } from './zip.ts';

const run = promisify(execFile);

/** What a handler reads at init; the values only have to be valid. */
export const LAMBDA_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  CLUSTER_NAME: 'bench',
  ISSUER_URL: 'https://oidc.example.com/bench',
  STATE_BUCKET: 'bench-state',
  PUBLIC_BUCKET: 'bench-public',
  KEY_MODE: 'kms',
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

/** An empty ESM handler: the floor every import time is compared with. */
export const FLOOR_HANDLER = 'export const handler = async () => ({});\n';

/**
 * The node builtins a bundle imports (`from"node:https"` in esbuild's output), so their cost can
 * be measured on its own: any function that calls AWS pays it, whatever its own code does.
 */
export function builtinImports(bundle: string): string[] {
  const found = new Set<string>();
  for (const match of bundle.matchAll(
    /(?:from\s*|import\s*\(?\s*|require\(\s*)["'](node:[a-z0-9_/]+)["']/g,
  )) {
    if (match[1] !== undefined) found.add(match[1]);
  }
  return [...found].sort();
}

/** Imports the module at `url` in a fresh node and prints the milliseconds the import took. */
const IMPORT_PROBE =
  'const t0 = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t0));';

/** A packaged function: its name, artifact size, and where its bundle was unpacked. */
export interface PackagedFunction {
  function: string;
  zipBytes: number;
  bytes: number;
  bundlePath: string;
}

/**
 * Runs `npx serverless package` into `outDir` and unpacks each function's bundle (`*.mjs`) under
 * `outDir/unpacked/<function>/`. Throws `BENCH_PACKAGE_FAILED` with the tail of the output.
 */
export async function packageFunctions(root: string, outDir: string): Promise<PackagedFunction[]> {
  const artifacts = join(outDir, 'artifacts');
  try {
    await run('npx', ['--no-install', 'serverless', 'package', '--stage', 'bench', '--package', artifacts], {
      cwd: root,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', FORCE_COLOR: '0' },
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const tail = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-8).join(' | ');
    throw new IrsaError(
      'BENCH_PACKAGE_FAILED',
      `npx serverless package failed: ${tail || e.message}`,
      'Run `npx serverless package --stage bench` in the repository to see the full error (npm ci first).',
      { cause: error },
    );
  }
  const zips = (await readdir(artifacts)).filter((name) => name.endsWith('.zip')).sort();
  if (zips.length === 0) {
    throw new IrsaError(
      'BENCH_PACKAGE_FAILED',
      `npx serverless package wrote no function zip to ${artifacts}.`,
      'Check the functions and the serverless-esbuild settings in serverless.yml.',
    );
  }
  const functions: PackagedFunction[] = [];
  for (const zipName of zips) {
    const name = zipName.slice(0, -'.zip'.length);
    const zip = await readFile(join(artifacts, zipName));
    const entries = readZip(zip);
    const bundles = entries.filter((entry) => entry.name.endsWith('.mjs'));
    if (bundles.length !== 1) {
      throw new IrsaError(
        'BENCH_PACKAGE_FAILED',
        `${zipName} holds ${bundles.length} .mjs bundles; one was expected.`,
        'Check the serverless-esbuild settings (format esm, outputFileExtension .mjs) in serverless.yml.',
      );
    }
    const unpacked = join(outDir, 'unpacked', name);
    for (const entry of entries) {
      await mkdir(dirname(join(unpacked, entry.name)), { recursive: true });
      await writeFile(join(unpacked, entry.name), entry.data);
    }
    const bundle = bundles[0] as { name: string; data: Buffer };
    functions.push({
      function: name,
      zipBytes: zip.length,
      bytes: bundle.data.length,
      bundlePath: join(unpacked, bundle.name),
    });
  }
  return functions;
}

/** Milliseconds to import `file` in a fresh node process (the import only, not node's start). */
export async function importTimeMs(file: string): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', IMPORT_PROBE, pathToFileURL(file).href],
    {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...LAMBDA_ENV },
      timeout: 60_000,
    },
  );
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) {
    throw new IrsaError(
      'BENCH_IMPORT_FAILED',
      `Importing ${file} printed "${stdout.trim().slice(0, 200)}" instead of a time.`,
      'Import the bundle by hand with node to see what it prints at init.',
    );
  }
  return ms;
}

/** Packages every function and measures sizes and import times over `rounds` rounds. */
export async function benchBundles(options: {
  root: string;
  rounds: number;
  progress?: (message: string) => void;
}): Promise<BundleFigures[]> {
  const outDir = await mkdtemp(join(tmpdir(), 'irsa-bench-bundles-'));
  try {
    options.progress?.('bundles: npx serverless package');
    const functions = await packageFunctions(options.root, outDir);
    const floor = join(outDir, 'floor', 'handler.mjs');
    await mkdir(dirname(floor), { recursive: true });
    await writeFile(floor, FLOOR_HANDLER);
    // A handler importing only the builtins the bundles import: the part of importMs no trimming
    // of our code or of the SDK can remove.
    const builtins = join(outDir, 'builtins', 'handler.mjs');
    await mkdir(dirname(builtins), { recursive: true });
    const specifiers = new Set<string>();
    for (const f of functions)
      for (const s of builtinImports(await readFile(f.bundlePath, 'utf8'))) specifiers.add(s);
    await writeFile(builtins, `${[...specifiers].map((s) => `import '${s}';`).join('\n')}\n${FLOOR_HANDLER}`);
    const files = [floor, builtins, ...functions.map((f) => f.bundlePath)];
    const times = new Map<string, number[]>(files.map((file) => [file, []]));
    // One warm-up import each (disk cache), then rounds in a rotating order.
    for (const file of files) await importTimeMs(file);
    for (let r = 0; r < options.rounds; r += 1) {
      options.progress?.(`bundles: import round ${r + 1}/${options.rounds}`);
      for (let k = 0; k < files.length; k += 1) {
        const file = files[(r + k) % files.length] as string;
        times.get(file)?.push(await importTimeMs(file));
      }
    }
    const floorMs = round(median(times.get(floor) ?? []), 2);
    const builtinsMs = round(median(times.get(builtins) ?? []), 2);
    return functions.map((f) => ({
      function: f.function,
      bytes: f.bytes,
      zipBytes: f.zipBytes,
      importMs: round(median(times.get(f.bundlePath) ?? []), 2),
      floorImportMs: floorMs,
      builtinsImportMs: builtinsMs,
    }));
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

#!/usr/bin/env node
// The `irsa-anywhere` command. It runs the bundled CLI (dist/irsa-anywhere.mjs, `npm run build`)
// when that is present; otherwise the TypeScript sources through tsx, so a fresh clone runs after
// `npm ci` with no build step. In a checkout a bundle older than any source file is ignored, so an
// edit is never shadowed by a stale build.
import { existsSync, readdirSync, statSync } from 'node:fs';

const bundle = new URL('../dist/irsa-anywhere.mjs', import.meta.url);
const sources = ['../scripts/', '../functions/', '../proto/'].map((dir) => new URL(dir, import.meta.url));

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      latest = Math.max(latest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
  }
  return latest;
}

function bundleIsCurrent() {
  if (process.env.IRSA_ANYWHERE_FROM_SOURCE === '1' || !existsSync(bundle)) return false;
  // An installed package has no sources beside the bundle.
  if (!existsSync(new URL('./main.ts', import.meta.url))) return true;
  const built = statSync(bundle).mtimeMs;
  return sources.every((dir) => newest(dir) <= built);
}

// The bundle holds only a stand-in for `bench` (it builds the Lambdas from the sources and loads
// the test fakes), so in a checkout the benchmarks always run from the sources.
const benchInCheckout = process.argv[2] === 'bench' && existsSync(new URL('./main.ts', import.meta.url));

if (!benchInCheckout && bundleIsCurrent()) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}

/**
 * `npm run build`: the whole CLI as one ESM file, dist/irsa-anywhere.mjs, that runs with plain
 * `node` (>= 20.19) and nothing installed beside it: every dependency is bundled and the signer's
 * `.proto` files are embedded as descriptors. Each command module stays behind its dynamic
 * `import()` in cli.ts, which esbuild turns into a lazily evaluated wrapper, so a command only
 * pays for the libraries it uses.
 */
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { protoDescriptors } from './protos.ts';
import { buildVendorUnits, collectVendored, vendorFooter, vendorPrelude, vendorStandIns } from './vendor.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where the bundle goes, relative to the repository. */
export const BUNDLE_PATH = 'dist/irsa-anywhere.mjs';

/** Swaps the bench command (a checkout-only tool) for a stub that says where to run it. */
const benchStub: Plugin = {
  name: 'bench-stub',
  setup(b) {
    b.onResolve({ filter: /\/commands\/bench\.ts$/ }, () => ({
      path: join(ROOT, 'scripts/build/bench-stub.ts'),
    }));
  },
};

/** Builds the bundle into `outFile` (default dist/irsa-anywhere.mjs in the repository). */
export async function buildBundle(outFile: string = join(ROOT, BUNDLE_PATH)): Promise<string> {
  await mkdir(dirname(outFile), { recursive: true });
  const common: BuildOptions = {
    entryPoints: [join(ROOT, 'scripts/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    minify: true,
    legalComments: 'none',
    define: { IRSA_EMBEDDED_PROTOS: JSON.stringify(protoDescriptors()), IRSA_BUNDLED: 'true' },
    logLevel: 'warning',
  };
  // Pass 1 finds the packages our code imports; pass 2 bundles with them as lazy vendor units.
  const vendored = new Set<string>();
  await build({ ...common, write: false, plugins: [benchStub, collectVendored(vendored)] });
  const units = await buildVendorUnits(vendored, ROOT);
  await build({
    ...common,
    outfile: outFile,
    // The shebang, then `require` for CommonJS code (commander) and the vendor units' loader.
    banner: { js: `#!/usr/bin/env node\n${await vendorPrelude()}` },
    footer: { js: vendorFooter(units) },
    plugins: [benchStub, vendorStandIns(units)],
  });
  await chmod(outFile, 0o755);
  return outFile;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildBundle(process.argv[2]);
  process.stdout.write(`built ${out}\n`);
}

/**
 * Lazy vendor units for the one-file bundle. Node compiles a whole ES module before running any of
 * it, so a 2 MB bundle costs every `--help` the parse of the AWS SDK and gRPC. Here each library
 * group (the AWS SDK, gRPC, YAML, jose, ...) is bundled on its own as CommonJS and embedded as a
 * string; the main bundle imports a tiny stand-in module per package that compiles its group with
 * `vm.compileFunction` on first use. A string literal costs a scan, not a parse, so a command only
 * compiles the libraries it imports (esbuild already defers each command module behind its dynamic
 * `import()` in cli.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { compileFunction } from 'node:vm';
import { build, type Plugin } from 'esbuild';

/** Packages bundled into the main module as usual: the CLI needs them to start. */
const EAGER = new Set(['commander']);

/** The package name of a bare specifier (`@scope/name/sub` → `@scope/name`). */
function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

/** The unit a package goes in: libraries that share internals (the AWS SDK's @smithy) stay together. */
export function vendorGroup(spec: string): string {
  const name = packageName(spec);
  if (name.startsWith('@aws-sdk/') || name.startsWith('@smithy/')) return 'aws';
  if (name.startsWith('@grpc/')) return 'grpc';
  if (name.startsWith('@aws-lambda-powertools/') || name.startsWith('@middy/')) return 'lambda';
  return name;
}

/** True for an import of our source that goes to a vendor unit. */
export function isVendored(spec: string, importer: string): boolean {
  if (importer.includes('/node_modules/') || /^[./#]/.test(spec) || isBuiltin(spec)) return false;
  return !EAGER.has(packageName(spec));
}

/** The plugin for the discovery pass: records the vendored specifiers and leaves them external. */
export function collectVendored(found: Set<string>): Plugin {
  return {
    name: 'vendor-collect',
    setup(b) {
      b.onResolve({ filter: /^[^./#]/ }, (args) => {
        if (!isVendored(args.path, args.importer)) return undefined;
        found.add(args.path);
        return { path: args.path, external: true };
      });
    },
  };
}

/** One vendor unit: CommonJS source whose `module.exports[spec]` is what `require(spec)` gives. */
export interface VendorUnit {
  source: string;
  exportNames: Map<string, string[]>;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Bundles each group of `specs` and reads the names each package exports. */
export async function buildVendorUnits(
  specs: Iterable<string>,
  root: string,
): Promise<Map<string, VendorUnit>> {
  const groups = new Map<string, string[]>();
  for (const spec of [...specs].sort()) {
    const group = vendorGroup(spec);
    groups.set(group, [...(groups.get(group) ?? []), spec]);
  }
  const units = new Map<string, VendorUnit>();
  for (const [group, members] of groups) {
    const result = await build({
      stdin: {
        contents: `module.exports = {${members.map((s) => `${JSON.stringify(s)}: require(${JSON.stringify(s)})`).join(',')}};`,
        resolveDir: root,
        loader: 'js',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20.19',
      minify: true,
      legalComments: 'none',
      write: false,
      logLevel: 'error',
    });
    const source = result.outputFiles[0]?.text ?? '';
    // Run it once here to learn the export names the stand-in modules must re-export.
    const loaded = runUnit(source, createRequire(`${root}/package.json`)) as Record<string, object>;
    const exportNames = new Map(
      members.map((spec) => [spec, Object.keys(loaded[spec] ?? {}).filter((n) => IDENTIFIER.test(n))]),
    );
    units.set(group, { source, exportNames });
  }
  return units;
}

function runUnit(source: string, require: NodeJS.Require): unknown {
  const module = { exports: {} };
  compileFunction(source, ['module', 'exports', 'require'])(module, module.exports, require);
  return module.exports;
}

/** The plugin for the real pass: each vendored import becomes a stand-in that loads its unit. */
export function vendorStandIns(units: Map<string, VendorUnit>): Plugin {
  return {
    name: 'vendor-stand-ins',
    setup(b) {
      b.onResolve({ filter: /^[^./#]/ }, (args) =>
        isVendored(args.path, args.importer) ? { path: args.path, namespace: 'vendor' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'vendor' }, (args) => {
        const names = units.get(vendorGroup(args.path))?.exportNames.get(args.path);
        if (names === undefined) return { errors: [{ text: `no vendor unit holds ${args.path}` }] };
        const named = names.filter((n) => n !== 'default' && n !== '__esModule');
        const lines = [
          `const m = __irsaVendor(${JSON.stringify(vendorGroup(args.path))})[${JSON.stringify(args.path)}];`,
          named.length > 0 ? `export const { ${named.join(', ')} } = m;` : '',
          // An ES module converted to CommonJS carries its default export as `default`; a CommonJS
          // package's default export is the whole `module.exports`, as in Node.
          'export default m.__esModule ? m.default : m;',
        ];
        return { contents: lines.join('\n'), loader: 'js' };
      });
    },
  };
}

/** The comment that carries one unit's source at the end of the bundle (read by prelude.mjs). */
const marker = (group: string): string => `/*irsa-vendor:${group}:`;

/**
 * The code before the main bundle (scripts/build/prelude.mjs): `require` for CommonJS code, and
 * the loader of the units. The units themselves are comments at the end of the file (see
 * `vendorFooter`): V8 skips a comment far faster than it scans a string literal, so they cost
 * nothing until the loader reads them.
 */
export function vendorPrelude(): Promise<string> {
  return readFile(new URL('./prelude.mjs', import.meta.url), 'utf8');
}

/**
 * The units as comments: each a JSON string, where `*\/` is the one escape needed to keep a
 * comment closed (JSON's syntax has no `*` outside strings).
 */
export function vendorFooter(units: Map<string, VendorUnit>): string {
  return [...units]
    .map(([group, unit]) => `${marker(group)}${JSON.stringify(unit.source).replaceAll('*/', '*\\/')}*/`)
    .join('\n');
}

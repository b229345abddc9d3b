// The start of dist/irsa-anywhere.mjs, before the bundled code (see vendor.ts): `require` for the
// CommonJS code in the bundle, and the loader of the vendor units, which are comments at the end
// of this same file. Plain JavaScript, copied verbatim by the build.
import { readFileSync as __irsaReadFileSync } from 'node:fs';
import { createRequire as __irsaCreateRequire } from 'node:module';
import { fileURLToPath as __irsaFileURLToPath } from 'node:url';
import { compileFunction as __irsaCompile } from 'node:vm';

const require = __irsaCreateRequire(import.meta.url);
const __irsaVendorLoaded = new Map();
let __irsaSelf;

/** `module.exports` of vendor unit `group`, compiled from its comment on first use. */
function __irsaVendor(group) {
  const loaded = __irsaVendorLoaded.get(group);
  if (loaded !== undefined) return loaded;
  __irsaSelf ??= __irsaReadFileSync(__irsaFileURLToPath(import.meta.url), 'utf8');
  const start = __irsaSelf.lastIndexOf(`/*irsa-vendor:${group}:`);
  const end = __irsaSelf.indexOf('"*/', start);
  if (start < 0 || end < 0) throw new Error(`irsa-anywhere bundle is damaged: no ${group} unit`);
  const source = JSON.parse(__irsaSelf.slice(__irsaSelf.indexOf('"', start), end + 1));
  const module = { exports: {} };
  __irsaCompile(source, ['module', 'exports', 'require'], {
    filename: `irsa-anywhere:vendor/${group}.cjs`,
  })(module, module.exports, require);
  __irsaVendorLoaded.set(group, module.exports);
  return module.exports;
}

// Bundles the runtime (index.ts), the handler and @chat/shared into dist/index.mjs. Packages that
// load native addons cannot be inlined: they stay external and are copied, with their own
// dependencies, into dist/node_modules, so the final image needs dist/ and nothing else.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Native addons (copied) and optional peers the MongoDB driver probes for (absent is fine). */
export const NATIVE = ['sharp'];
export const OPTIONAL_PEERS = ['kerberos', '@mongodb-js/zstd', '@aws-sdk/credential-providers', 'gcp-metadata', 'snappy', 'socks', 'aws4', 'mongodb-client-encryption'];

const root = process.cwd();
const out = path.join(root, 'dist');

const result = await build({
  entryPoints: [path.join(root, 'index.ts')],
  outdir: out,
  outExtension: { '.js': '.mjs' },
  // index.ts imports the handler dynamically so the server listens before the handler's code is
  // loaded; splitting keeps that code in a chunk of its own (dist/chunks/).
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  external: [...NATIVE, ...OPTIONAL_PEERS],
  // CommonJS dependencies call require(); ESM output needs one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
writeFileSync(path.join(root, 'build-meta.json'), JSON.stringify(result.metafile));

/** Copies an installed package and, recursively, its installed dependencies. */
function copyPackage(name, from, seen) {
  if (seen.has(name)) return;
  // Node's lookup, by hand: package "exports" often hide package.json from require.resolve.
  let dir = null;
  for (let at = from; ; at = path.dirname(at)) {
    const candidate = path.join(at, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) {
      dir = realpathSync(candidate);
      break;
    }
    if (path.dirname(at) === at) return; // not installed: an optional dependency for another platform
  }
  seen.add(name);
  const manifest = path.join(dir, 'package.json');
  const dest = path.join(out, 'node_modules', name);
  mkdirSync(path.dirname(dest), { recursive: true });
  cpSync(dir, dest, { recursive: true, dereference: true, filter: (src) => !path.relative(dir, src).split(path.sep).includes('node_modules') });
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) copyPackage(dep, dir, seen);
}

const imported = new Set();
for (const input of Object.values(result.metafile.inputs))
  for (const imp of input.imports) if (imp.external) imported.add(imp.path);
const seen = new Set();
for (const name of NATIVE) if (imported.has(name)) copyPackage(name, path.join(root, 'function'), seen);
if (seen.size) process.stdout.write(`native packages kept external: ${[...seen].join(', ')}\n`);

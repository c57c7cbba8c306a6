import { build } from 'esbuild';
import path from 'node:path';
import { BUILD, ROOT } from '../../scripts/stack/paths.ts';

/**
 * Bundles a baseline the way scripts/stack/build.ts bundles the services (esbuild, ESM, npm
 * packages external), so product and baseline start and run under the same conditions.
 */
export async function bundleBaseline(entry: string, name: string): Promise<string> {
  const outfile = path.join(BUILD, `bench-${name}.mjs`);
  await build({
    entryPoints: [path.join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [
      {
        name: 'external-packages',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@chat/') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
  });
  return outfile;
}

import { build, type Plugin } from 'esbuild';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUILD, ROOT } from './paths.ts';
import { run } from './exec.ts';

/** Functions that exist in this checkout (a folder under functions/ with a handler.ts). */
export function listFunctions(): string[] {
  const dir = path.join(ROOT, 'functions');
  return readdirSync(dir)
    .filter((f) => existsSync(path.join(dir, f, 'handler.ts')))
    .sort();
}

export const hasGateway = () => existsSync(path.join(ROOT, 'socket-gateway/src/index.ts'));
export const hasConnector = () => existsSync(path.join(ROOT, 'connector/src/index.ts'));

/** Keep npm packages external (node resolves them from node_modules); bundle our own TS. */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@chat/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/** The template's runtime imports ./function/handler.ts; locally that is functions/<fn>/handler.ts. */
const functionHandler = (fn: string): Plugin => ({
  name: 'function-handler',
  setup(b) {
    b.onResolve({ filter: /^\.\/function\/handler(\.ts)?$/ }, () => ({ path: path.join(ROOT, 'functions', fn, 'handler.ts') }));
  },
});

const TEMPLATE_ENTRY = path.join(ROOT, 'template/hono-node/index.ts');

/**
 * Bundles each service into .local/build/<name>.mjs: the same bundles `npm start`, the tests and
 * the benchmarks run, so what is measured is what ships.
 */
export async function buildServices(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: 'node20',
    sourcemap: 'linked' as const,
    logLevel: 'warning' as const,
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  };
  const jobs: Promise<unknown>[] = [];
  for (const fn of listFunctions()) {
    const outfile = path.join(BUILD, `fn-${fn}.mjs`);
    out[fn] = outfile;
    // Split like the template's build: the handler is a chunk the runtime loads after it listens.
    // Chunk names carry a content hash, so the last build's are removed, not left to pile up.
    rmSync(path.join(BUILD, `fn-${fn}-chunks`), { recursive: true, force: true });
    jobs.push(
      build({
        ...common,
        entryPoints: { [`fn-${fn}`]: TEMPLATE_ENTRY },
        outdir: BUILD,
        outExtension: { '.js': '.mjs' },
        splitting: true,
        chunkNames: `fn-${fn}-chunks/[name]-[hash]`,
        plugins: [functionHandler(fn), externalPackages],
      }),
    );
  }
  for (const [name, entry] of [
    ['socket-gateway', 'socket-gateway/src/index.ts'],
    ['connector', 'connector/src/index.ts'],
  ] as const) {
    if (!existsSync(path.join(ROOT, entry))) continue;
    const outfile = path.join(BUILD, `${name}.mjs`);
    out[name] = outfile;
    jobs.push(build({ ...common, entryPoints: [path.join(ROOT, entry)], outfile, plugins: [externalPackages] }));
  }
  await Promise.all(jobs);
  return out;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the web app when its sources are newer than its build (or it has none yet). */
export async function ensureWebBuild(log: (m: string) => void): Promise<string | null> {
  const web = path.join(ROOT, 'web');
  if (!existsSync(path.join(web, 'src')) || !existsSync(path.join(web, 'svelte.config.js'))) return null;
  const index = path.join(web, 'build/index.html');
  const srcTime = Math.max(newestMtime(path.join(web, 'src')), statSync(path.join(ROOT, 'shared/src')).mtimeMs, newestMtime(path.join(ROOT, 'shared/src')));
  if (!existsSync(index) || statSync(index).mtimeMs < srcTime) {
    log('building the web app…');
    try {
      await run('npm', ['run', 'build', '-w', '@chat/web'], { cwd: ROOT, quiet: true });
    } catch (e) {
      // The API stays usable without the UI; the browser tests are what fail loudly.
      log(`the web app did not build; serving a placeholder page:\n${e instanceof Error ? e.message.slice(-1500) : e}`);
      return null;
    }
  }
  return path.join(web, 'build');
}

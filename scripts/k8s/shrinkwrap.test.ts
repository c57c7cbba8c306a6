import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../stack/paths.ts';
import { listFunctions } from '../stack/build.ts';
import { shrinkwrap } from './shrinkwrap.ts';

/**
 * What `faas-cli build --shrinkwrap` would hand to Docker, checked without faas-cli or Docker
 * (neither can be installed here): the stand-in scripts/k8s/shrinkwrap.ts lays out each
 * function's context as faas-cli does, then the template's own build step (build.mjs) bundles
 * it the way the Dockerfile's build stage does, and the bundle is started far enough to prove
 * that every module loads. What stays unproven: the Docker build itself and of-watchdog.
 */
const template = path.join(ROOT, 'template/hono-node');
const dockerfile = readFileSync(path.join(template, 'Dockerfile'), 'utf8');
const templateYml = parse(readFileSync(path.join(template, 'template.yml'), 'utf8')) as { language: string; fprocess: string };
const buildDir = mkdtempSync(path.join(os.tmpdir(), 'shrinkwrap-'));
// Functions whose code is in this checkout (stack.yml may list functions still being written).
const present = listFunctions();

/** node_modules as `npm install` of the template's workspaces leaves it: @chat/shared is the copy in function/shared. */
function linkDependencies(ctx: string) {
  const nm = path.join(ctx, 'node_modules');
  mkdirSync(path.join(nm, '@chat'), { recursive: true });
  for (const entry of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (entry === '@chat' || entry === '.bin' || entry.startsWith('.')) continue;
    symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(nm, entry));
  }
  symlinkSync('../../function/shared', path.join(nm, '@chat/shared'));
}

const packageName = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
const isBuiltin = (spec: string) => spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!);

describe('template/hono-node', () => {
  it('is an of-watchdog HTTP-mode template on a pinned Node LTS image, running as a non-root user', () => {
    expect(templateYml.language).toBe('hono-node');
    expect(templateYml.fprocess).toBe('node index.mjs');
    const froms = [...dockerfile.matchAll(/^FROM\s+(?:--platform=\S+\s+)?(\S+)/gm)].map((m) => m[1]!);
    expect(froms[0]).toBe('ghcr.io/openfaas/of-watchdog:0.11.6');
    for (const image of froms) expect(image, image).toMatch(/:[\w.-]*\d[\w.-]*$/);
    for (const image of froms.slice(1)) expect(image).toMatch(/^node:(22|24)\.\d+\.\d+-(bookworm-|trixie-)?slim$/);
    expect(dockerfile).toMatch(/COPY --from=watchdog \/fwatchdog \/usr\/bin\/fwatchdog/);
    const users = [...dockerfile.matchAll(/^USER\s+(\d+)/gm)].map((m) => Number(m[1]));
    expect(users.at(-1)).toBeGreaterThan(0);
    expect(dockerfile).toMatch(/mode=http/);
    expect(dockerfile).toMatch(/upstream_url=http:\/\/127\.0\.0\.1:3000/);
    expect(dockerfile).toContain(`fprocess="${templateYml.fprocess}"`);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\/tmp\/\.lock/m);
    expect(dockerfile).toMatch(/^CMD \["fwatchdog"\]$/m);
    // the runtime listens where upstream_url points (shared/src/runtime/serve.ts defaults)
    const serve = readFileSync(path.join(ROOT, 'shared/src/runtime/serve.ts'), 'utf8');
    expect(serve).toMatch(/process\.env\.PORT \?\? 3000/);
  });

  it('has a function for every stack entry whose code exists here', () => {
    expect(present.length).toBeGreaterThanOrEqual(2);
    const stack = parse(readFileSync(path.join(ROOT, 'stack.yml'), 'utf8')) as { functions: Record<string, unknown> };
    for (const fn of present) expect(Object.keys(stack.functions)).toContain(fn);
  });
});

describe.each(present)('shrinkwrapped build context of %s', (fn) => {
  const [ctx] = shrinkwrap({ buildDir, only: [fn] });
  const dir = ctx!.dir;

  it('holds the template, the handler under function/ and the shared package under function/shared', () => {
    for (const f of ['Dockerfile', '.dockerignore', 'template.yml', 'package.json', 'build.mjs', 'index.ts', 'function/handler.ts', 'function/package.json', 'function/shared/package.json', 'function/shared/src/runtime/serve.ts'])
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    expect(existsSync(path.join(dir, 'function/shared/node_modules'))).toBe(false);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(pkg.workspaces).toEqual(['function', 'function/shared']);
    expect(JSON.parse(readFileSync(path.join(dir, 'function/package.json'), 'utf8')).dependencies['@chat/shared']).toBeDefined();
  });

  it('bundles with the template build step; shared code comes from the copied folder and every package is declared', () => {
    linkDependencies(dir);
    const build = spawnSync(process.execPath, ['build.mjs'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(build.stderr).not.toMatch(/error/i);
    expect(build.status).toBe(0);
    expect(existsSync(path.join(dir, 'dist/index.mjs'))).toBe(true);

    const meta = JSON.parse(readFileSync(path.join(dir, 'build-meta.json'), 'utf8')) as {
      inputs: Record<string, { imports: Array<{ path: string; original?: string; external?: boolean }> }>;
    };
    const inputs = Object.keys(meta.inputs);
    expect(inputs).toContain('function/handler.ts');
    expect(inputs).toContain('function/shared/src/runtime/serve.ts');
    // no shared module was taken from anywhere but the context's own copy
    expect(inputs.filter((p) => /(^|\/)shared\/src\//.test(p) && !p.startsWith('function/shared/src/'))).toEqual([]);

    const deps = (file: string) => {
      const pkg = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
      return new Set(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }));
    };
    const fnDeps = deps('function/package.json');
    const sharedDeps = deps('function/shared/package.json');
    const undeclared: string[] = [];
    for (const [file, input] of Object.entries(meta.inputs)) {
      // A function may use what @chat/shared brings along (hono, zod: installed and hoisted with it).
      const own = file.startsWith('function/shared/') ? sharedDeps : file.startsWith('function/') ? new Set([...fnDeps, ...sharedDeps]) : null;
      if (!own || file.includes('node_modules')) continue;
      for (const imp of input.imports) {
        const spec = imp.original ?? imp.path;
        if (spec.startsWith('.') || spec.startsWith('/') || isBuiltin(spec)) continue;
        if (!own.has(packageName(spec))) undeclared.push(`${file}: ${spec}`);
      }
    }
    // a package only another workspace (another function, the gateway) declares would be missing from the image
    expect(undeclared).toEqual([]);
  }, 180_000);

  it('starts from dist/ alone (as in the final image): every module loads and the config is validated', () => {
    // The ship stage copies only dist/; run it away from the context's node_modules to match.
    const image = mkdtempSync(path.join(os.tmpdir(), 'fn-image-'));
    cpSync(path.join(dir, 'dist'), image, { recursive: true });
    const run = spawnSync(process.execPath, [path.join(image, 'index.mjs')], {
      cwd: image,
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH, SECRETS_DIR: mkdtempSync(path.join(os.tmpdir(), 'no-secrets-')), JWT_AUDIENCE: '' },
    });
    // 78 is serveFunction's exit for a configuration error: it got as far as reading its settings.
    expect(run.stderr).toMatch(/JWT_AUDIENCE/);
    expect(run.status).toBe(78);
  }, 60_000);
});

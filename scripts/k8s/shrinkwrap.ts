/**
 * A stand-in for `faas-cli build --shrinkwrap`, which cannot be installed on this machine (the Go
 * module proxy refuses github.com/openfaas/*). It lays out each function's Docker build context
 * the way faas-cli's CreateBuildContext does:
 *   build/<fn>/            the files of template/<lang>/
 *   build/<fn>/function/   the function's handler folder (all but its build/ and template/)
 *   build/<fn>/function/<path>   each configuration.copy path (so ./shared → function/shared)
 * Where faas-cli is available, run the real command instead; docs/deploy.md says how.
 *
 * Usage: tsx scripts/k8s/shrinkwrap.ts [--build-dir <dir>] [fn ...]
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../stack/paths.ts';
import { readStackFile, STACK_FILE } from './stack-file.ts';

export interface BuildContext {
  fn: string;
  dir: string;
}

/** Local leftovers that faas-cli would also copy but the template's .dockerignore drops anyway. */
const SKIP_LOCAL = new Set(['node_modules', 'dist', 'build-meta.json']);

export function shrinkwrap(opts: { stackFile?: string; buildDir?: string; only?: string[] } = {}): BuildContext[] {
  const stackFile = opts.stackFile ?? STACK_FILE;
  const base = path.dirname(stackFile);
  const stack = readStackFile(stackFile);
  const buildDir = opts.buildDir ?? path.join(ROOT, 'build');
  const out: BuildContext[] = [];
  for (const [fn, spec] of Object.entries(stack.functions).sort(([a], [b]) => a.localeCompare(b))) {
    if (opts.only?.length && !opts.only.includes(fn)) continue;
    const template = path.join(base, 'template', spec.lang);
    if (!existsSync(template)) throw new Error(`${fn}: template ${spec.lang} not found at ${template}`);
    const handler = path.resolve(base, spec.handler);
    if (!existsSync(handler)) throw new Error(`${fn}: handler folder ${spec.handler} not found`);

    const ctx = path.join(buildDir, fn);
    rmSync(ctx, { recursive: true, force: true });
    mkdirSync(path.join(ctx, 'function'), { recursive: true });
    for (const entry of readdirSync(template)) {
      if (SKIP_LOCAL.has(entry)) continue;
      cpSync(path.join(template, entry), path.join(ctx, entry), { recursive: true });
    }
    for (const entry of readdirSync(handler)) {
      if (entry === 'build' || entry === 'template' || SKIP_LOCAL.has(entry)) continue;
      cpSync(path.join(handler, entry), path.join(ctx, 'function', entry), { recursive: true });
    }
    for (const extra of stack.configuration?.copy ?? []) {
      const src = path.resolve(base, extra);
      if (path.relative(base, src).startsWith('..')) throw new Error(`copy path ${extra} is outside the stack folder`);
      cpSync(src, path.join(ctx, 'function', path.normalize(extra)), {
        recursive: true,
        filter: (p) => !path.relative(src, p).split(path.sep).includes('node_modules'),
      });
    }
    out.push({ fn, dir: ctx });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--build-dir');
  const buildDir = i >= 0 ? path.resolve(args.splice(i, 2)[1]!) : undefined;
  for (const c of shrinkwrap({ buildDir, only: args })) console.log(`${c.fn}: ${path.relative(process.cwd(), c.dir)}`);
}

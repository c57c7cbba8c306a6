#!/usr/bin/env node
// Total gzipped JavaScript of the first page load, from build/index.html:
//   the inline bootstrap's import()s and every <link rel="modulepreload">, plus their static
//   imports (transitively), plus the route nodes the client router loads for the first route
//   (the dynamic imports listed in entry/app.js: every route's layout and page, so this is the
//   worst case over all routes). Lazy chunks imported from inside components (e.g. the emoji
//   picker) are not counted: they are not part of a first load.
// Exits 1 above the budget (default 150 KB = 150 * 1024 bytes; override with --budget=<KB>).
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join, resolve, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function measure(buildDir = resolve(here, '../build')) {
  const indexPath = join(buildDir, 'index.html');
  if (!existsSync(indexPath)) throw new Error(`${indexPath} not found: run "npm run build -w @chat/web" first`);
  const html = readFileSync(indexPath, 'utf8');

  const roots = new Set();
  for (const m of html.matchAll(/<link[^>]+rel=["']?modulepreload["']?[^>]*>/g)) {
    const href = m[0].match(/href=["']?([^"'\s>]+)/)?.[1];
    if (href) roots.add(href);
  }
  for (const m of html.matchAll(/<script[^>]+src=["']?([^"'\s>]+\.js)/g)) roots.add(m[1]);
  for (const m of html.matchAll(/import\(\s*["']([^"']+\.js)["']\s*\)/g)) roots.add(m[1]);

  const toFile = (url) => join(buildDir, url.replace(/^\//, ''));
  const files = new Map(); // url -> { raw, gz }
  const staticImports = (code) => [
    ...code.matchAll(/(?:^|[;\s}])import\s*(?:[\w$*{}\s,]+from\s*)?["']([^"']+\.js)["']/g),
    ...code.matchAll(/(?:^|[;\s}])export\s*(?:\*|\{[^}]*\})\s*from\s*["']([^"']+\.js)["']/g),
  ].map((m) => m[1]);
  const dynamicImports = (code) => [...code.matchAll(/import\(\s*["']([^"']+\.js)["']\s*\)/g)].map((m) => m[1]);

  const visit = (url) => {
    if (files.has(url)) return;
    const path = toFile(url);
    if (!existsSync(path)) throw new Error(`${url} referenced by the first load is missing`);
    const code = readFileSync(path);
    files.set(url, { raw: code.length, gz: gzipSync(code, { level: 9 }).length });
    const text = code.toString('utf8');
    for (const dep of staticImports(text)) visit(posix.join(posix.dirname(url), dep));
    // The client manifest (entry/app.js) lists route nodes as dynamic imports: the first load
    // fetches the nodes of whichever route is opened, so count all of them.
    // The bootstrap (moved out of index.html by externalize-bootstrap.mjs) imports the entry points.
    if (/\/immutable\/bootstrap\.[^/]+\.js$/.test(url)) for (const dep of dynamicImports(text)) visit(dep.startsWith('/') ? dep : posix.join(posix.dirname(url), dep));
    if (/\/entry\/app\.[^/]+\.js$/.test(url)) {
      for (const dep of dynamicImports(text)) if (/\/nodes\//.test(posix.join(posix.dirname(url), dep))) visit(posix.join(posix.dirname(url), dep));
    }
  };
  for (const r of roots) visit(r);

  let gz = 0;
  let raw = 0;
  for (const f of files.values()) {
    gz += f.gz;
    raw += f.raw;
  }
  return { gzipBytes: gz, rawBytes: raw, files: [...files.entries()].map(([url, s]) => ({ url, ...s })) };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const budgetKb = Number(process.argv.find((a) => a.startsWith('--budget='))?.split('=')[1] ?? 150);
  const dir = process.argv.find((a) => a.startsWith('--dir='))?.split('=')[1];
  try {
    const r = measure(dir ? resolve(dir) : undefined);
    const verbose = process.argv.includes('--verbose');
    if (verbose) for (const f of r.files.sort((a, b) => b.gz - a.gz)) console.log(`${(f.gz / 1024).toFixed(1).padStart(7)} KB  ${f.url}`);
    const kb = (r.gzipBytes / 1024).toFixed(1);
    const ok = r.gzipBytes <= budgetKb * 1024;
    console.log(`first-load JS: ${kb} KB gzipped (${(r.rawBytes / 1024).toFixed(1)} KB raw) in ${r.files.length} files; budget ${budgetKb} KB: ${ok ? 'OK' : 'OVER'}`);
    process.exit(ok ? 0 : 1);
  } catch (e) {
    console.error(String(e instanceof Error ? e.message : e));
    process.exit(2);
  }
}

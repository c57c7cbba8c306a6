#!/usr/bin/env node
// Moves SvelteKit's inline bootstrap <script> out of every built HTML page into a file of its
// own, so the app runs under a Content-Security-Policy with `script-src 'self'` and no inline
// script at all (docs/security.md). Runs after `vite build` (the web package's build script).
//
// Why not kit.csp's hashes: the hash changes with every build, and the CSP header is static
// configuration (ingress/nginx.conf.ts, the web-nginx ConfigMap); a header that had to be
// regenerated per build would drift from the image it describes.
//
// The bootstrap reads `document.currentScript.parentElement` to find where to mount, so it must
// stay a classic, parser-inserted script (a module script has no currentScript): the
// replacement is `<script src=…>` without type=module, async or defer, in the same place.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const INLINE_SCRIPT = /<script>([\s\S]*?)<\/script>/g;

/** Rewrites one page; returns the new HTML and the files to write (path relative to build). */
export function externalize(html) {
  const files = [];
  const out = html.replace(INLINE_SCRIPT, (_, code) => {
    // The bootstrap imports the entry points by absolute URL (…/_app/immutable/entry/…); the
    // file goes beside them, under the same base path.
    const entry = /import\("([^"]*\/)immutable\/entry\//.exec(code);
    if (!entry) throw new Error('an inline <script> that is not the SvelteKit bootstrap: refusing to guess where it belongs');
    const hash = createHash('sha256').update(code).digest('hex').slice(0, 12);
    const url = `${entry[1]}immutable/bootstrap.${hash}.js`;
    files.push({ url, code: `${code.trim()}\n` });
    return `<script src="${url}"></script>`;
  });
  return { html: out, files };
}

function htmlFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? htmlFiles(join(dir, d.name)) : d.name.endsWith('.html') ? [join(dir, d.name)] : [],
  );
}

export function externalizeBuild(buildDir) {
  let moved = 0;
  for (const page of htmlFiles(buildDir)) {
    const { html, files } = externalize(readFileSync(page, 'utf8'));
    for (const f of files) writeFileSync(join(buildDir, f.url.replace(/^\//, '')), f.code);
    if (files.length) writeFileSync(page, html);
    moved += files.length;
  }
  return moved;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const buildDir = resolve(dirname(fileURLToPath(import.meta.url)), '../build');
  const moved = externalizeBuild(buildDir);
  if (moved === 0) {
    console.error('externalize-bootstrap: no inline bootstrap found in build/*.html (already moved, or SvelteKit changed its output)');
    process.exit(1);
  }
}

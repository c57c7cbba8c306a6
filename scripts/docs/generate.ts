import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { API_DIR, renderApiReference } from './api-reference.ts';

/** `npm run docs`: rewrites the generated files of docs/api/ (README.md there is written by hand). */
const files = renderApiReference();
// A route or function that no longer exists loses its page.
for (const f of readdirSync(path.join(API_DIR, 'openapi'), { withFileTypes: true }).filter((d) => d.isFile())) {
  if (!(`openapi/${f.name}` in files)) rmSync(path.join(API_DIR, 'openapi', f.name));
}
for (const [rel, content] of Object.entries(files)) {
  mkdirSync(path.dirname(path.join(API_DIR, rel)), { recursive: true });
  writeFileSync(path.join(API_DIR, rel), content);
}
console.log(`docs/api: ${Object.keys(files).length} files written`);

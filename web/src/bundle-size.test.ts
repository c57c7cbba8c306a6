import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { measure } from '../scripts/bundle-size.mjs';

const web = fileURLToPath(new URL('..', import.meta.url));
const index = `${web}build/index.html`;

describe('first-load bundle size', () => {
  it('ships at most 150 KB of gzipped JavaScript on the first page load', () => {
    if (!existsSync(index)) {
      // No build yet (fresh clone): build once so the check always runs.
      execFileSync('npm', ['run', 'build'], { cwd: web, stdio: 'ignore' });
    }
    const r = measure(`${web}build`) as { gzipBytes: number; files: { url: string }[] };
    expect(r.files.some((f) => /\/entry\/start\./.test(f.url))).toBe(true);
    expect(r.files.some((f) => /\/nodes\//.test(f.url))).toBe(true);
    expect(r.gzipBytes).toBeGreaterThan(10 * 1024);
    expect(r.gzipBytes).toBeLessThanOrEqual(150 * 1024);
  }, 120_000);

  it("is Svelte's production runtime even when built under NODE_ENV=test (the test stack's build)", () => {
    // Vite builds for development whenever NODE_ENV is set to anything but production (vitest sets
    // it to test): Svelte's dev runtime tracks ownership and stacks, and made cold loads slower.
    if (!existsSync(index)) execFileSync('npm', ['run', 'build'], { cwd: web, stdio: 'ignore' });
    const r = measure(`${web}build`) as { files: { url: string }[] };
    const dev = r.files.filter((f) => readFileSync(`${web}build${f.url}`, 'utf8').includes('%c[svelte]'));
    expect(dev.map((f) => f.url)).toEqual([]);
  }, 120_000);
});

import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Unit tests of the web app's client logic. The Svelte plugin compiles the runes of `.svelte.ts`
 * stores, so a store is tested as it runs.
 */
export default defineConfig({
  root,
  plugins: [svelte()],
  resolve: { alias: { $lib: `${root}src/lib` } },
  test: {
    name: 'web',
    environment: 'node',
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
  },
});

import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Unit tests of the web app's client logic (pure TypeScript; no Svelte compiler needed). */
export default defineConfig({
  root,
  resolve: { alias: { $lib: `${root}src/lib` } },
  test: {
    name: 'web',
    environment: 'node',
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
  },
});

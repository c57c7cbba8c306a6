// The project's one ESLint configuration; the root eslint.config.js re-exports it.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/build/**', '**/.svelte-kit/**', '.local/**', 'web/e2e/screenshots/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Tests and JSON helpers use `any` for parsed wire data on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // The web app runs in the browser (and its service worker); its .svelte files are checked by
    // svelte-check, which npm test runs as a counted check beside this one.
    files: ['web/src/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.serviceworker } },
  },
  {
    files: ['scripts/**', 'bench/**', '**/*.test.ts', 'test/**', 'web/scripts/**', 'web/e2e/**'],
    rules: { 'no-console': 'off' },
  },
);

// The project's one ESLint configuration; the root eslint.config.js re-exports it.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
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
  // The web app's components get the same rules as its TypeScript, plus Svelte's own (svelte-check,
  // a counted check of npm test, type-checks them; this lints them).
  ...svelte.configs.recommended,
  {
    files: ['web/**/*.svelte', 'web/**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    // The web app runs in the browser (and its service worker).
    files: ['web/src/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.serviceworker } },
  },
  {
    files: ['scripts/**', 'bench/**', '**/*.test.ts', 'test/**', 'web/scripts/**', 'web/e2e/**'],
    rules: { 'no-console': 'off' },
  },
);

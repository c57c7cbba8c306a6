import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Browser tests of the web app. The root harness provides `stack` ({ baseUrl }) from the real
 * stack; run standalone, e2e/global-setup.ts provides CHAT_BASE_URL or starts the in-memory
 * mock backend (serving web/build) so the UI can be exercised without the services.
 */
export default defineConfig({
  root,
  test: {
    name: 'web-e2e',
    include: ['e2e/**/*.e2e.test.ts'],
    globalSetup: ['e2e/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});

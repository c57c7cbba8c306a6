import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * unit: no servers. integration: one real stack (FerretDB, MinIO, Redis, RabbitMQ, nginx, every
 * service) shared by the files, plus the browser tests. chaos: kills and restarts processes, so it
 * gets a stack of its own and runs its files one at a time, after the others.
 */
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{shared,functions,socket-gateway,connector,scripts,ingress,k8s,test,bench}/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.int.test.ts', '**/*.chaos.test.ts', '**/*.e2e.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts', 'web/e2e/**/*.e2e.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['test/stack.setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'chaos',
          include: ['**/*.chaos.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['test/stack.setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 2 },
        },
      },
      ...(existsSync('web/vitest.config.ts') ? ['web/vitest.config.ts'] : []),
    ],
  },
});

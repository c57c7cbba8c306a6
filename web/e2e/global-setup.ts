import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: { baseUrl: string };
  }
}

export default async function setup(project: TestProject) {
  if (process.env.CHAT_BASE_URL) {
    project.provide('stack', { baseUrl: process.env.CHAT_BASE_URL.replace(/\/$/, '') });
    return;
  }
  // @ts-expect-error plain .mjs helper without types
  const { startMock } = await import('./mock-backend.mjs');
  const mock = await startMock({ port: 0 });
  project.provide('stack', { baseUrl: mock.baseUrl });
  return () => mock.close();
}

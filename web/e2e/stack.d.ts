// The root harness (test/stack.setup.ts) provides the real stack's addresses to these tests.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: { baseUrl: string };
  }
}

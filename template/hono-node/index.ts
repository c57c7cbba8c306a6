// The OpenFaaS template's runtime: of-watchdog (HTTP mode) starts this process and proxies to it.
// A function is only its handler (./function/handler.ts, copied in by faas-cli).
import { serveFunction } from '@chat/shared/runtime/serve';
import createHandler from './function/handler.ts';

await serveFunction(process.env.FUNCTION_NAME ?? 'function', createHandler);

// The OpenFaaS template's runtime: of-watchdog (HTTP mode) starts this process and proxies to it.
// A function is only its handler (./function/handler.ts, copied in by faas-cli).
import { envFromSecrets } from '@chat/shared/runtime/secret-env';
import { serveFunction } from '@chat/shared/runtime/serve';
import createHandler from './function/handler.ts';

// Connection URLs carry credentials, so in a cluster they come as OpenFaaS secrets, not env.
envFromSecrets();
await serveFunction(process.env.FUNCTION_NAME ?? 'function', createHandler);

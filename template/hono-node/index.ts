// The OpenFaaS template's runtime: of-watchdog (HTTP mode) starts this process and proxies to it.
// A function is only its handler (./function/handler.ts, copied in by faas-cli).
import { envFromSecrets } from '@chat/shared/runtime/secret-env';
import { serveFunction } from '@chat/shared/runtime/serve';

// Connection URLs carry credentials, so in a cluster they come as OpenFaaS secrets, not env.
envFromSecrets();
// The handler is loaded while the server starts: its code (mongoose, zod, the function's own
// packages) is most of a cold start, so the build splits it into a chunk of its own, which
// /healthz (liveness) does not wait for; every other request does.
// OpenFaaS names the function in OPENFAAS_NAME (faas-netes and `faas-cli local-run` set it;
// of-watchdog reads the same variable), and the local stack does the same.
await serveFunction(process.env.OPENFAAS_NAME ?? 'function', async () => (await import('./function/handler.ts')).default());

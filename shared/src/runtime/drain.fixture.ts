// A function served by the real runtime, for serve.test.ts: GET /slow answers after ?ms=.
import { createApp } from '../http/app.ts';
import { createLogger } from '../log.ts';
import { serveFunction } from './serve.ts';

await serveFunction('drain-fixture', async () => {
  const app = createApp({ log: createLogger('drain-fixture', 'error'), ready: async () => undefined });
  app.get('/slow', async (c) => {
    await new Promise((r) => setTimeout(r, Number(c.req.query('ms') ?? 0)));
    return c.json({ ok: true });
  });
  return { app, close: async () => void process.stdout.write('stores closed\n') };
});

import { readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/**
 * The functions baseline: a bare Hono app on the same Node server adapter as the functions,
 * answering the same route shapes with static JSON (captured from the real functions when
 * BARE_FIXTURE names a file, so the bodies are the same size). No auth, no database.
 */
const fixture = process.env.BARE_FIXTURE
  ? (JSON.parse(readFileSync(process.env.BARE_FIXTURE, 'utf8')) as { me: unknown; messages: unknown })
  : { me: { user: { id: 'u1', username: 'alice', displayName: 'alice' } }, messages: { messages: [], hasMore: false } };
const me = JSON.stringify(fixture.me);
const messages = JSON.stringify(fixture.messages);

const app = new Hono();
app.get('/healthz', (c) => c.json({ status: 'ok' }));
// Nothing to wait for: the baseline's readiness is the moment it listens.
app.get('/readyz', (c) => c.json({ status: 'ready' }));
app.get('/me', (c) => c.body(me, 200, { 'content-type': 'application/json' }));
app.get('/conversations/:id/messages', (c) => c.body(messages, 200, { 'content-type': 'application/json' }));

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' });
process.once('SIGTERM', () => server.close(() => process.exit(0)));

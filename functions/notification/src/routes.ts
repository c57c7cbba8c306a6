import type { Hono } from 'hono';
import { z } from 'zod';
import type { TokenVerifier } from '@chat/shared/auth/verifier';
import { errors } from '@chat/shared/errors';
import { BATCH_HEADER, ROUTING_KEYS, TOPIC_HEADER, type MessageCreatedEvent } from '@chat/shared/events/bus';
import { busEventSchemas } from '@chat/shared/events/schemas';
import { requireConnectorSecret } from '@chat/shared/http/connector-auth';
import { readJson, requireUser, type AppEnv } from '@chat/shared/http/app';
import { buildOpenApi, type RouteDoc } from '@chat/shared/http/openapi';
import { describeIssue } from '@chat/shared/models/validation';
import type { NotificationService } from './notification.service.ts';
import { levelOf, preferenceRequest, subscribeRequest, unsubscribeRequest } from './requests.ts';

export const openApiInfo = { title: 'Chat notification function', version: '1.0.0', serverUrl: '/api/notification' };

/** The routes' documentation: served as /openapi.json and written to docs/api/ by `npm run docs`. */
export const docs: RouteDoc[] = [
  { method: 'get', path: '/vapid-public-key', summary: 'The VAPID public key for PushManager.subscribe', responses: { 200: '{publicKey}' } },
  { method: 'post', path: '/subscriptions', summary: 'Register (or update) this device for Web Push', auth: true, body: subscribeRequest, responses: { 201: 'Registered', 400: 'Invalid, or not an allowed push service' } },
  { method: 'delete', path: '/subscriptions', summary: 'Unregister a device', auth: true, body: unsubscribeRequest, responses: { 204: 'Gone' } },
  {
    method: 'put',
    path: '/preferences/{conversationId}',
    summary: 'Set the notification level of a conversation: {level} (all, mentions or none), or the older {muted} (true = none, false = all)',
    auth: true,
    body: preferenceRequest,
    responses: { 204: 'Saved', 400: 'Neither or both of level and muted, or an unknown level', 404: 'Not a member' },
  },
  {
    method: 'get',
    path: '/preferences/{conversationId}',
    summary: "The caller's notification level (the default when never set) and whether it is none",
    auth: true,
    responses: { 200: '{level, muted}', 404: 'Not a member' },
  },
];

export function notificationRoutes(
  app: Hono<AppEnv>,
  deps: { service: NotificationService; verifier: TokenVerifier; publicKey: string; connectorSecret: string; batchMax: number },
) {
  const { service, verifier } = deps;
  const auth = requireUser(verifier);

  app.get('/vapid-public-key', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({ publicKey: deps.publicKey });
  });
  app.post('/subscriptions', auth, async (c) => {
    await service.subscribe(c.var.userId, await readJson(c, subscribeRequest));
    return c.body(null, 201);
  });
  app.delete('/subscriptions', auth, async (c) => {
    await service.unsubscribe(c.var.userId, (await readJson(c, unsubscribeRequest)).endpoint);
    return c.body(null, 204);
  });
  app.put('/preferences/:conversationId', auth, async (c) => {
    await service.setLevel(c.var.userId, c.req.param('conversationId'), levelOf(await readJson(c, preferenceRequest)));
    return c.body(null, 204);
  });
  app.get('/preferences/:conversationId', auth, async (c) => {
    const level = await service.level(c.var.userId, c.req.param('conversationId'));
    return c.json({ level, muted: level === 'none' });
  });

  // The connector's entry: one event with X-Topic, or X-Batch: 1 with [{topic, event}].
  const batchBody = z.array(z.object({ topic: z.string().min(1).max(64), event: z.unknown() })).min(1).max(deps.batchMax);
  app.post('/', requireConnectorSecret(deps.connectorSecret), async (c) => {
    const items =
      c.req.header(BATCH_HEADER) === '1' ? await readJson(c, batchBody) : [{ topic: c.req.header(TOPIC_HEADER) ?? '', event: await readJson(c, z.unknown()) }];
    // Every event is checked before any is acted on, so a malformed batch changes nothing.
    const created: MessageCreatedEvent[] = [];
    items.forEach((item, i) => {
      if (item.topic !== ROUTING_KEYS.messageCreated) return;
      const parsed = busEventSchemas[ROUTING_KEYS.messageCreated].safeParse(item.event);
      if (!parsed.success) throw errors.invalid(`${items.length > 1 ? `[${i}] ` : ''}${describeIssue(parsed.error)}`);
      created.push(parsed.data);
    });
    const queued = await service.onMessagesCreated(created);
    return c.json({ events: created.length, queued: queued.reduce((a, b) => a + b, 0) }, 202);
  });

  const openapi = buildOpenApi(openApiInfo, docs);
  app.get('/openapi.json', (c) => c.json(openapi));
}

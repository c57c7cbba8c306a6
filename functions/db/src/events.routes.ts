import type { Hono } from 'hono';
import { z } from 'zod';
import { errors } from '@chat/shared/errors';
import { BATCH_HEADER, TOPIC_HEADER } from '@chat/shared/events/bus';
import { requireConnectorSecret } from '@chat/shared/http/connector-auth';
import { readJson, type AppEnv } from '@chat/shared/http/app';
import type { Logger } from '@chat/shared/log';
import { parseEvent, type EventsService, type ParsedEvent } from './events.service.ts';

/**
 * The event entry point at the function root, as the connector calls it: `POST /` with X-Topic
 * and the connector secret, the event as body; or X-Batch: 1 with a JSON array of {topic, event}.
 * 2xx means every event of the call is applied; anything else makes the connector retry it all.
 */
export function eventRoutes(app: Hono<AppEnv>, deps: { service: EventsService; secret: string; log: Logger; batchMax: number }) {
  const { service, log } = deps;
  const batchBody = z.array(z.object({ topic: z.string().min(1).max(64), event: z.unknown() })).min(1).max(deps.batchMax);

  app.post('/', requireConnectorSecret(deps.secret), async (c) => {
    let items: Array<{ topic: string; event: unknown }>;
    if (c.req.header(BATCH_HEADER) === '1') items = await readJson(c, batchBody);
    else {
      const topic = c.req.header(TOPIC_HEADER);
      if (!topic) throw errors.invalid(`Event calls need the ${TOPIC_HEADER} header.`);
      items = [{ topic, event: await readJson(c, z.unknown()) }];
    }
    // Validate the whole call before applying any of it, so a bad event changes nothing.
    const parsed: ParsedEvent[] = [];
    items.forEach((item, i) => {
      const e = parseEvent(item.topic, item.event, items.length > 1 ? `[${i}] ` : '');
      if (e) parsed.push(e);
      else log.info('ignoring event topic', { topic: item.topic });
    });
    const { stored } = await service.apply(parsed);
    return c.json({ applied: parsed.length, stored });
  });
}

import amqp, { type ConfirmChannel } from 'amqplib';
import { EXCHANGE, ROUTING_KEYS } from '@chat/shared/events/bus';
import { eachLimit } from '@chat/shared/concurrency';
import { AMQP_SOCKET_OPTIONS } from '@chat/shared/infra/rabbit';
import { loadConnectorConfig } from '../../connector/src/config.ts';
import { procGroup, type BenchContext, type CpuPhase, type ScenarioResult } from '../lib/context.ts';
import { drainedQueues } from '../lib/broker.ts';
import { commandsBetween, ferretdbCommands } from '../lib/ferretdb.ts';
import { cpuWindow } from '../lib/procstat.ts';
import { buildMessages, messageDoc, seedUsersAndGroups } from '../lib/seed.ts';
import { evaluate, round } from '../lib/stats.ts';

/**
 * Storage pipeline: `message.created` events published into RabbitMQ the way the gateway does
 * (persistent, publisher confirms), then the time until the connector and the db function have
 * stored all of them. Baseline: the same documents written with insertMany straight into the same
 * collection, in the batch size and concurrency the connector uses. For reference, the broker
 * alone: the same publishes into two durable queues (as the db and notification functions have),
 * consumed and acked by consumers that do nothing else, which no pipeline through it can beat.
 */
// What the stack's connector runs with (its defaults unless the environment overrides them).
const { BATCH_MAX: BATCH, MAX_IN_FLIGHT: IN_FLIGHT, PREFETCH } = loadConnectorConfig(process.env);

interface Outgoing {
  id: string;
  body: Buffer;
}

/** Publishes the way the gateway does: persistent, with publisher confirms, 1,000 unconfirmed at most. */
async function publishAll(ch: ConfirmChannel, exchange: string, events: Outgoing[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    for (const e of events.slice(i, i + 1000)) {
      if (!ch.publish(exchange, ROUTING_KEYS.messageCreated, e.body, { persistent: true, contentType: 'application/json', messageId: e.id, timestamp: Date.now() }))
        await new Promise((r) => ch.once('drain', r));
    }
    await ch.waitForConfirms();
  }
}

/** The broker's share alone: the same events through two durable queues to consumers that only ack. */
async function brokerAlone(url: string, events: Outgoing[]): Promise<{ publishMs: number; allMs: number }> {
  const [pub, sub] = await Promise.all([amqp.connect(url, AMQP_SOCKET_OPTIONS), amqp.connect(url, AMQP_SOCKET_OPTIONS)]);
  const exchange = `bench.broker-alone.${Date.now().toString(36)}`;
  const queues = await drainedQueues(sub, exchange, { prefetch: PREFETCH, ackEvery: BATCH });
  const ch = await pub.createConfirmChannel();
  const t0 = performance.now();
  await publishAll(ch, exchange, events);
  const publishMs = performance.now() - t0;
  await queues.received(events.length * 2);
  const allMs = performance.now() - t0;
  await queues.remove();
  await Promise.all([pub.close(), sub.close()]);
  return { publishMs, allMs };
}

export async function storage(ctx: BenchContext): Promise<ScenarioResult> {
  const count = ctx.quick ? 10_000 : 50_000;
  const notes: string[] = [];
  const cpu: CpuPhase[] = [];
  const { stack } = ctx;
  const base: ScenarioResult = { name: 'storage', title: 'Storage pipeline', params: { events: count, batch: BATCH, inFlight: IN_FLIGHT }, tables: [], targets: [], cpu, charts: [], notes, raw: null };
  if (!stack.procs.has('connector') || !stack.procs.has('db')) {
    notes.push('Not measured: this checkout has no connector or db function.');
    base.targets.push(evaluate({ name: 'pipeline msg/s', kind: 'abs-min', target: 5000 }, null), evaluate({ name: 'pipeline vs insertMany', kind: 'higher', target: 0.5 }, null, null));
    return base;
  }
  const seeded = await seedUsersAndGroups(ctx.mongo, 'st', 200, 20);
  const convIds = seeded.groups.map((g) => g.id);
  const messages = buildMessages(seeded.groups, count, `st${Date.now().toString(36)}`);
  const membersOf = new Map(seeded.groups.map((g) => [g.id, g.memberIds]));
  const Message = ctx.mongo.models.Message;
  const stored = () => Message.countDocuments({ conversationId: { $in: convIds } });
  // The notification function consumes the same events at the same time, so its share is listed too.
  const groups = [ctx.stackGroup('connector'), ctx.stackGroup('db', 'db function'), ctx.stackGroup('notification', 'notification function'), ctx.stackGroup('ferretdb'), ...ctx.infraGroups(), procGroup('bench (publisher)', 'load', [{ pid: process.pid }])];
  const events = messages.map((m) => ({ id: m.id, body: Buffer.from(JSON.stringify({ message: m, memberIds: membersOf.get(m.conversationId) })) }));

  ctx.log(`storage: publishing ${count} message.created events`);
  const conn = await amqp.connect(stack.env.AMQP_URL!, AMQP_SOCKET_OPTIONS);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
  const commandsBefore = await ferretdbCommands(stack.ports.ferretdbMetrics);
  const end = cpuWindow(groups);
  const t0 = performance.now();
  await publishAll(ch, EXCHANGE, events);
  const publishMs = performance.now() - t0;
  await conn.close();

  const deadline = t0 + (ctx.quick ? 90_000 : 240_000);
  // Watch for completion cheaply: FerretDB answers a count with a full scan, so polling counts
  // took a large share of the database from the pipeline it measures. Each round asks (by _id,
  // which the stack's pushdown indexes serve) for the next conversation's newest event only
  // until one is missing, and counts once all are there.
  const lastIds = [...new Map(messages.map((m) => [m.conversationId, m.id])).values()];
  let n = 0;
  let seen = 0;
  let doneAt: number | null = null;
  let samples: ReturnType<typeof end> | null = null;
  let countMs = 0;
  while (performance.now() < deadline) {
    while (seen < lastIds.length && (await Message.exists({ _id: lastIds[seen] }))) seen++;
    if (seen === lastIds.length) {
      // The count is a scan in FerretDB (seconds of its CPU at 50,000 messages), so time and CPU
      // are read as it starts: a count that finds every message saw them stored by then.
      const at = performance.now();
      const before = end();
      n = await stored();
      countMs = performance.now() - at;
      if (n >= count) {
        doneAt = at;
        samples = before;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pipelineMs = (doneAt ?? performance.now()) - t0;
  cpu.push({ phase: `pipeline: ${count} events`, seconds: round(pipelineMs / 1000)!, samples: samples ?? end() });
  // Includes this loop's completion checks (exists, then the count).
  const commands = commandsBetween(commandsBefore, await ferretdbCommands(stack.ports.ferretdbMetrics));
  const done = n >= count;
  if (!done) notes.push(`Only ${n} of ${count} were stored within ${Math.round(pipelineMs / 1000)} s.`);
  const pipelineRate = done ? count / (pipelineMs / 1000) : null;

  ctx.log('storage: the broker alone');
  const endR = cpuWindow(groups);
  const alone = await brokerAlone(stack.env.AMQP_URL!, events);
  cpu.push({ phase: `RabbitMQ alone: ${count} events`, seconds: round(alone.allMs / 1000)!, samples: endR() });
  const aloneRate = count / (alone.allMs / 1000);

  ctx.log('storage: baseline insertMany');
  await Message.deleteMany({ conversationId: { $in: convIds } });
  const docs = messages.map(messageDoc);
  const endB = cpuWindow(groups);
  const b0 = performance.now();
  const batches = Array.from({ length: Math.ceil(docs.length / BATCH) }, (_, i) => docs.slice(i * BATCH, (i + 1) * BATCH));
  await eachLimit(batches, IN_FLIGHT, async (batch) => {
    await Message.insertMany(batch, { ordered: false, lean: true });
  });
  const directMs = performance.now() - b0;
  cpu.push({ phase: `insertMany: ${count} docs`, seconds: round(directMs / 1000)!, samples: endB() });
  const directRate = count / (directMs / 1000);
  const check = await stored();
  if (check !== count) notes.push(`Baseline stored ${check} of ${count}.`);

  base.tables.push({
    title: `${count} messages`,
    columns: ['path', 'publish s', 'until all stored s', 'msg/s'],
    rows: [
      ['RabbitMQ → connector → db function → FerretDB', round(publishMs / 1000, 2), done ? round(pipelineMs / 1000, 2) : 'incomplete', round(pipelineRate, 0)],
      [`direct insertMany (batch ${BATCH}, ${IN_FLIGHT} in flight)`, '–', round(directMs / 1000, 2), round(directRate, 0)],
      ['RabbitMQ alone (reference): the same publishes, two durable queues, consumers that only ack', round(alone.publishMs / 1000, 2), round(alone.allMs / 1000, 2), round(aloneRate, 0)],
    ],
  });
  notes.push(
    `The broker alone moved the events at ${round(aloneRate / directRate, 2)}× the insertMany rate: the ceiling for any pipeline through RabbitMQ on this machine, before the connector, the functions or the database do any work.`,
  );
  if (commands)
    base.tables.push({
      title: 'FerretDB commands during the pipeline (the db and notification functions, and this scenario\'s completion checks)',
      columns: ['command', 'count', 'per 10,000 events'],
      rows: commands.map(([cmd, n]) => [cmd, n, round((n / count) * 10_000, 0)]),
    });
  base.targets.push(
    evaluate({ name: 'pipeline msg/s', kind: 'abs-min', target: 5000, unit: 'msg/s' }, pipelineRate),
    evaluate({ name: 'pipeline vs direct insertMany', kind: 'higher', target: 0.5 }, pipelineRate, directRate),
  );
  base.raw = { count, publishMs, pipelineMs, countMs, stored: n, brokerAlone: { ...alone, rate: aloneRate }, directMs, pipelineRate, directRate, ferretdbCommands: commands && Object.fromEntries(commands) };
  return base;
}

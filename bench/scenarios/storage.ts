import amqp from 'amqplib';
import { EXCHANGE, ROUTING_KEYS } from '@chat/shared/events/bus';
import { loadConnectorConfig } from '../../connector/src/config.ts';
import { procGroup, type BenchContext, type CpuPhase, type ScenarioResult } from '../lib/context.ts';
import { commandsBetween, ferretdbCommands } from '../lib/ferretdb.ts';
import { cpuWindow } from '../lib/procstat.ts';
import { buildMessages, messageDoc, seedUsersAndGroups } from '../lib/seed.ts';
import { evaluate, round } from '../lib/stats.ts';

/**
 * Storage pipeline: `message.created` events published into RabbitMQ the way the gateway does
 * (persistent, publisher confirms), then the time until the connector and the db function have
 * stored all of them. Baseline: the same documents written with insertMany straight into the same
 * collection, in the batch size and concurrency the connector uses.
 */
// What the stack's connector runs with (its defaults unless the environment overrides them).
const { BATCH_MAX: BATCH, MAX_IN_FLIGHT: IN_FLIGHT } = loadConnectorConfig(process.env);

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

  ctx.log(`storage: publishing ${count} message.created events`);
  const conn = await amqp.connect(stack.env.AMQP_URL!);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
  const commandsBefore = await ferretdbCommands(stack.ports.ferretdbMetrics);
  const end = cpuWindow(groups);
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += 1000) {
    for (const m of messages.slice(i, i + 1000)) {
      const body = Buffer.from(JSON.stringify({ message: m, memberIds: membersOf.get(m.conversationId) }));
      if (!ch.publish(EXCHANGE, ROUTING_KEYS.messageCreated, body, { persistent: true, contentType: 'application/json', messageId: m.id, timestamp: Date.now() }))
        await new Promise((r) => ch.once('drain', r));
    }
    await ch.waitForConfirms();
  }
  const publishMs = performance.now() - t0;
  await conn.close();

  const deadline = t0 + (ctx.quick ? 90_000 : 240_000);
  // Watch for completion cheaply: FerretDB answers an _id lookup with a scan of the collection in
  // PostgreSQL, and a count with a full scan, so polling them eagerly took a large share of the
  // database from the pipeline it measures. Each round asks for the next conversation's newest
  // event only until one is missing, and counts once all are there.
  const lastIds = [...new Map(messages.map((m) => [m.conversationId, m.id])).values()];
  let n = 0;
  let seen = 0;
  while (performance.now() < deadline) {
    while (seen < lastIds.length && (await Message.exists({ _id: lastIds[seen] }))) seen++;
    if (seen === lastIds.length) {
      n = await stored();
      if (n >= count) break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pipelineMs = performance.now() - t0;
  cpu.push({ phase: `pipeline: ${count} events`, seconds: round(pipelineMs / 1000)!, samples: end() });
  // Includes this loop's few completion checks (exists, then one count).
  const commands = commandsBetween(commandsBefore, await ferretdbCommands(stack.ports.ferretdbMetrics));
  const done = n >= count;
  if (!done) notes.push(`Only ${n} of ${count} were stored within ${Math.round(pipelineMs / 1000)} s.`);
  const pipelineRate = done ? count / (pipelineMs / 1000) : null;

  ctx.log('storage: baseline insertMany');
  await Message.deleteMany({ conversationId: { $in: convIds } });
  const docs = messages.map(messageDoc);
  const endB = cpuWindow(groups);
  const b0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < docs.length) {
      const batch = docs.slice(next, next + BATCH);
      next += BATCH;
      await Message.insertMany(batch, { ordered: false, lean: true });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
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
    ],
  });
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
  base.raw = { count, publishMs, pipelineMs, stored: n, directMs, pipelineRate, directRate, ferretdbCommands: commands && Object.fromEntries(commands) };
  return base;
}

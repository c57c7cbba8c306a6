/**
 * Stored messages per second through RabbitMQ → connector → db function → FerretDB, on a private
 * test stack. Two runs: "live" (publishing while the connector consumes) and "backlog" (the
 * connector drains a queue filled while it was stopped, i.e. catching up after an outage).
 *
 *   npx tsx bench/store-throughput.ts [messages=10000]
 *
 * Connector knobs (BATCH_MAX, BATCH_WAIT_MS, MAX_IN_FLIGHT, PREFETCH) pass through from the environment.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import amqp from 'amqplib';
import mongoose from 'mongoose';
import { EXCHANGE } from '@chat/shared/events/bus';
import type { Message } from '@chat/shared/models/types';
import { LOCAL } from '../scripts/stack/paths.ts';
import { startStack } from '../scripts/stack/stack.ts';

const N = Number(process.argv[2] ?? 10_000);
const knobs = Object.fromEntries(['BATCH_MAX', 'BATCH_WAIT_MS', 'MAX_IN_FLIGHT', 'PREFETCH'].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
const stack = await startStack({
  mode: 'test',
  logFile: path.join(LOCAL, 'logs', `bench-store-${Date.now()}.log`),
  log: () => undefined,
  env: { REGISTER_MAX_PER_IP: '1000', ...knobs },
});
if (Object.keys(knobs).length) console.log('connector knobs:', knobs);
try {
  const json = async (p: string, body: unknown, token?: string) => {
    const res = await fetch(`${stack.baseUrl}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const user = async () => json('/api/auth/register', { username: `b${randomBytes(5).toString('hex')}`, password: 'bench password' });
  const [a, b] = [await user(), await user()];
  const conv = async () => (await json('/api/db/conversations', { type: 'group', title: 'bench', memberIds: [b.user.id] }, a.accessToken)).conversation.id as string;

  const conn = await amqp.connect(stack.env.AMQP_URL!);
  const ch = await conn.createConfirmChannel();
  const db = await mongoose.createConnection(stack.env.MONGO_URL!).asPromise();
  const messages = db.collection('messages');

  let seq = 0;
  const publishAll = async (conversationId: string) => {
    for (let i = 0; i < N; i++) {
      const id = Date.now().toString(16).padStart(12, '0') + (seq++).toString(16).padStart(8, '0') + randomBytes(2).toString('hex');
      const message: Message = {
        id,
        conversationId,
        senderId: a.user.id,
        clientMsgId: id,
        body: `benchmark message ${i} with a little text in it`,
        attachments: [],
        replyToId: null,
        reactions: [],
        createdAt: new Date().toISOString(),
        editedAt: null,
        deletedAt: null,
      };
      ch.publish(EXCHANGE, 'message.created', Buffer.from(JSON.stringify({ message })), { persistent: true, contentType: 'application/json' });
      if (i % 1000 === 999) await ch.waitForConfirms();
    }
    await ch.waitForConfirms();
  };
  const waitStored = async (conversationId: string) => {
    for (;;) {
      if ((await messages.countDocuments({ conversationId })) >= N) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  // live
  const live = await conv();
  let t0 = performance.now();
  await publishAll(live);
  const published = performance.now();
  await waitStored(live);
  const liveMs = performance.now() - t0;
  console.log(`live:    ${N} messages published in ${(published - t0).toFixed(0)} ms, all stored after ${liveMs.toFixed(0)} ms → ${((N / liveMs) * 1000).toFixed(0)} stored msg/s`);

  // backlog
  const backlog = await conv();
  const connector = stack.procs.get('connector')!;
  await connector.stop();
  await publishAll(backlog);
  t0 = performance.now();
  await connector.start();
  await waitStored(backlog);
  const drainMs = performance.now() - t0;
  console.log(`backlog: ${N} queued messages stored in ${drainMs.toFixed(0)} ms (incl. connector start) → ${((N / drainMs) * 1000).toFixed(0)} stored msg/s`);

  await db.close();
  await conn.close();
} finally {
  await stack.stop();
}

import type { ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { DEAD_LETTER_QUEUE } from '@chat/shared/events/bus';
import { serverEventSchemas } from '@chat/shared/events/socket-schemas';
import { afterAll, describe, expect, it } from 'vitest';
import type { Message } from '@chat/shared/models/types';
import { api, registerUser, storedWhen, uniqueName } from '../test/api.ts';
import { busChannel, closeBus, eventually, publishRaw } from '../test/bus.ts';
import { closeTestDb } from '../test/db.ts';
import { connect, connectAs, nextEvent, record, request, type ClientSocket } from '../test/socket.ts';
import { controlProc, stack } from '../test/stack.ts';

afterAll(() => Promise.all([closeTestDb(), closeBus()]));

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const readyz = (i: number) => fetch(`http://127.0.0.1:${stack().ports.gateways[i]}/readyz`).then((r) => r.status, () => 0);
const bothReady = () => eventually(async () => ((await readyz(0)) === 200 && (await readyz(1)) === 200 ? true : undefined), 'both gateways ready', 40_000, 200);

async function group(owner: { accessToken: string }, members: Array<{ user: { id: string } }>, title: string): Promise<string> {
  const res = await api('POST', '/api/db/conversations', { token: owner.accessToken, body: { type: 'group', title, memberIds: members.map((m) => m.user.id) } });
  expect(res.status).toBe(201);
  return res.body.conversation.id as string;
}

/** Sends until acked ok, resending with the same clientMsgId as a client does; counts what was not ok at first. */
async function sendUntilAcked(s: ClientSocket, conversationId: string, clientMsgId: string, body: string, tally: { notOk: number }): Promise<Message> {
  for (let attempt = 0; ; attempt++) {
    const ack = await request(s, 'message:send', { conversationId, clientMsgId, body }, 5000).catch(() => null);
    if (ack?.ok) return (ack as { message: Message }).message;
    tally.notOk++;
    expect(attempt, `${clientMsgId} never acked`).toBeLessThan(60);
    await pause(250);
  }
}

/** Redis restarts empty (it keeps nothing on disk): every key of this stack goes, the ledger's sentinel too. */
async function forgetRedis(senderId: string, clientMsgId: string): Promise<void> {
  const redis = new Redis(stack().env.REDIS_URL!);
  try {
    const prefix = stack().env.REDIS_PREFIX!;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    expect(await redis.exists(`${prefix}send:idem:${senderId}:${Buffer.from(clientMsgId).toString('base64url')}`, `${prefix}send:epoch`)).toBe(0);
  } finally {
    redis.disconnect();
  }
}

/**
 * After the resends of `resent` (acked with the message first sent), a new message `next` is
 * new: broadcast once, after anything the resends would have broadcast, and both are stored once.
 */
async function expectOneNewAfterLoss(o: { sender: ClientSocket; receiver: ClientSocket; seen: Array<{ message: Message }>; token: string; convId: string; resent: string; next: string }): Promise<void> {
  const after = nextEvent(o.receiver, 'message:new', (p) => p.message.clientMsgId === o.next);
  expect((await request(o.sender, 'message:send', { conversationId: o.convId, clientMsgId: o.next, body: `new after the loss of ${o.resent}` })).ok).toBe(true);
  await after;
  expect(o.seen.map((p) => p.message.clientMsgId)).toEqual([o.resent, o.next]);
  const stored = await storedWhen(o.token, o.convId, (all) => all.length >= 2, 'both stored');
  expect(stored.map((m) => m.clientMsgId)).toEqual([o.resent, o.next]);
}

function expectStoredOnce(stored: Message[], acked: Map<string, Message>) {
  const byClient = new Map<string, number>();
  for (const m of stored) byClient.set(m.clientMsgId, (byClient.get(m.clientMsgId) ?? 0) + 1);
  const duplicated = [...byClient.values()].filter((n) => n > 1).length;
  const missing = [...acked.keys()].filter((k) => !byClient.has(k)).length;
  expect({ duplicated, missing }).toEqual({ duplicated: 0, missing: 0 });
  for (const m of stored) if (acked.has(m.clientMsgId)) expect(m.id).toBe(acked.get(m.clientMsgId)!.id);
  return { duplicated, missing };
}

describe('fault drill', () => {
  it('a broker restart under load: every acked message stored once, readiness follows the broker, and afterwards new conversations and new members get live messages on every gateway', async () => {
    const users = await Promise.all(Array.from({ length: 8 }, () => registerUser()));
    const groups = [await group(users[0]!, users.slice(1, 4), 'drill a'), await group(users[4]!, users.slice(5, 8), 'drill b')];
    // Every group spans both instances.
    const sockets = await Promise.all(users.map((u, i) => connectAs(u.accessToken, { instance: i % 2 })));
    const acked = new Map<string, Message>();
    const tally = { notOk: 0 };
    const perClient = 50;
    const readiness: number[][] = [];

    const senders = sockets.map(async (s, c) => {
      for (let i = 0; i < perClient; i++) {
        const clientMsgId = `drill-${c}-${i}`;
        acked.set(clientMsgId, await sendUntilAcked(s, groups[Math.floor(c / 4)]!, clientMsgId, `client ${c} message ${i}`, tally));
      }
    });
    const chaos = (async () => {
      while (acked.size < 100) await pause(10);
      await controlProc('broker-proxy', 'kill');
      // Both gateways stop being ready while their consumer and publisher are down.
      readiness.push(await eventually(async () => {
        const s = [await readyz(0), await readyz(1)];
        return s.every((x) => x === 503) ? s : undefined;
      }, 'gateways not ready while the broker is away', 10_000, 50));
      await pause(1500);
      await controlProc('broker-proxy', 'start');
    })();
    await Promise.all([...senders, chaos]);
    expect(acked.size).toBe(8 * perClient);
    expect(readiness).toEqual([[503, 503]]);
    await bothReady();

    // After the restart: a new conversation reaches members on both instances live.
    const fresh = users.slice(0, 4);
    const joined = fresh.slice(1).map((_, i) => nextEvent(sockets[i + 1]!, 'conversation:new', (p) => p.conversation.title === 'after restart'));
    const newConv = await group(fresh[0]!, fresh.slice(1), 'after restart');
    await Promise.all(joined);
    // (The group's creation record, a system message, reaches them too: this waits for the sent one.)
    const live = [0, 2, 3].map((i) => nextEvent(sockets[i]!, 'message:new', (p) => p.message.conversationId === newConv && p.message.clientMsgId === 'after-1'));
    const sent = await sendUntilAcked(sockets[1]!, newConv, 'after-1', 'live after the restart', tally);
    expect((await Promise.all(live)).map((p) => p.message.id)).toEqual([sent.id, sent.id, sent.id]);

    // ... and members added to an existing group, one per instance, do too.
    const newcomers = await Promise.all([registerUser(), registerUser()]);
    const newSockets = await Promise.all(newcomers.map((u, i) => connectAs(u.accessToken, { instance: i })));
    const welcomed = newSockets.map((s) => nextEvent(s, 'conversation:new', (p) => p.conversation.id === groups[0]));
    const added = await api('POST', `/api/db/conversations/${groups[0]}/members`, { token: users[0]!.accessToken, body: { userIds: newcomers.map((u) => u.user.id) } });
    expect(added.status).toBe(200);
    await Promise.all(welcomed);
    const toNewcomers = newSockets.map((s) => nextEvent(s, 'message:new', (p) => p.message.clientMsgId === 'after-2'));
    const hello = await sendUntilAcked(sockets[3]!, groups[0]!, 'after-2', 'welcome', tally);
    acked.set('after-2', hello);
    expect((await Promise.all(toNewcomers)).map((p) => p.message.id)).toEqual([hello.id, hello.id]);

    for (const [g, prefix] of [[groups[0]!, [0, 1, 2, 3]], [groups[1]!, [4, 5, 6, 7]]] as const) {
      const mine = new Map([...acked].filter(([k]) => prefix.some((c) => k.startsWith(`drill-${c}-`)) || (g === groups[0] && k === 'after-2')));
      const stored = await storedWhen(users[prefix[0]!]!.accessToken, g, (all) => all.length >= mine.size, 'every acked message stored', 60_000, 250);
      expect(stored).toHaveLength(mine.size);
      const counts = expectStoredOnce(stored, mine);
      console.log(`drill ${g}: acked ${mine.size}, stored ${stored.length}, duplicated ${counts.duplicated}, missing ${counts.missing}`);
    }
    console.log(`drill: sends not acked ok at the first try (resent with the same clientMsgId): ${tally.notOk}`);
    for (const s of [...sockets, ...newSockets]) s.disconnect();
  });

  it('a membership event that does not match its schema is dead-lettered by every gateway, never acked and forgotten', async () => {
    const marker = uniqueName('bad');
    await publishRaw('conversation.created', [JSON.stringify({ conversationId: marker })]);
    const ch = await busChannel();
    const found = new Map<string, ConsumeMessage>();
    let done!: () => void;
    const both = new Promise<void>((r) => (done = r));
    const { consumerTag } = await ch.consume(DEAD_LETTER_QUEUE, (msg) => {
      if (!msg) return;
      if (!msg.content.toString().includes(marker)) return void ch.nack(msg, false, true);
      ch.ack(msg);
      const death = (msg.properties.headers?.['x-death'] as Array<{ queue: string; reason: string }> | undefined)?.[0];
      found.set(death?.queue ?? '?', msg);
      if (found.size === 2) done();
    });
    await eventually(() => Promise.race([both.then(() => true), pause(200).then(() => undefined)]), 'both gateways dead-letter the event', 20_000);
    await ch.cancel(consumerTag);
    expect([...found.keys()].sort()).toEqual(['chat.gateway.gw1.membership', 'chat.gateway.gw2.membership']);
    for (const m of found.values()) {
      expect(m.fields.routingKey).toBe(DEAD_LETTER_QUEUE);
      expect((m.properties.headers?.['x-death'] as Array<{ reason: string }>)[0]!.reason).toBe('rejected');
    }
  });

  it('after Redis loses the send ledger, the resend of an acked message gets the same message and is not broadcast again', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const convId = await group(alice, [bob], 'redis loss');
    const a = await connectAs(alice.accessToken, { instance: 0 });
    const b = await connectAs(bob.accessToken, { instance: 1 });
    const seen = record(b, 'message:new');
    try {
      const first = await request(a, 'message:send', { conversationId: convId, clientMsgId: 'lost-1', body: 'before the loss' });
      expect(first.ok).toBe(true);
      const message = (first as { message: Message }).message;
      await storedWhen(alice.accessToken, convId, (all) => all.some((m) => m.id === message.id), 'stored');

      await forgetRedis(alice.user.id, 'lost-1');

      const resent = await request(a, 'message:send', { conversationId: convId, clientMsgId: 'lost-1', body: 'before the loss' });
      expect(resent).toMatchObject({ ok: true, message: { id: message.id, createdAt: message.createdAt } });
      // A second resend is answered by the ledger again.
      expect(await request(a, 'message:send', { conversationId: convId, clientMsgId: 'lost-1', body: 'before the loss' })).toMatchObject({ ok: true, message: { id: message.id } });
      await expectOneNewAfterLoss({ sender: a, receiver: b, seen, token: alice.accessToken, convId, resent: 'lost-1', next: 'lost-2' });
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it('after Redis loses its data twice, resends through the other gateway still get the acked message, broadcast once', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const convId = await group(alice, [bob], 'redis loss, other gateway');
    const a1 = await connectAs(alice.accessToken, { instance: 0 });
    const b = await connectAs(bob.accessToken, { instance: 0 });
    const seen = record(b, 'message:new');
    const a2 = await connectAs(alice.accessToken, { instance: 1 });
    try {
      const first = await request(a1, 'message:send', { conversationId: convId, clientMsgId: 'moved-1', body: 'sent on gw1' });
      expect(first.ok).toBe(true);
      const message = (first as { message: Message }).message;
      await storedWhen(alice.accessToken, convId, (all) => all.some((m) => m.id === message.id), 'stored');
      // The client lost gw1 too (a phone that reconnects after a restart): it resends on gw2.
      a1.disconnect();
      await forgetRedis(alice.user.id, 'moved-1');
      expect(await request(a2, 'message:send', { conversationId: convId, clientMsgId: 'moved-1', body: 'sent on gw1' })).toMatchObject({ ok: true, message: { id: message.id, createdAt: message.createdAt } });
      // Redis goes again inside the recovery window (the ledger's sentinel restarts it): still recognised.
      await forgetRedis(alice.user.id, 'moved-1');
      expect(await request(a2, 'message:send', { conversationId: convId, clientMsgId: 'moved-1', body: 'sent on gw1' })).toMatchObject({ ok: true, message: { id: message.id } });
      await expectOneNewAfterLoss({ sender: a2, receiver: b, seen, token: alice.accessToken, convId, resent: 'moved-1', next: 'moved-2' });
    } finally {
      for (const s of [a1, a2, b]) s.disconnect();
    }
  });

  it('a message acked while queued, Redis lost, resent with a new id: stored once, the dropped id superseded by the kept message at every member, and the next resend acked with the stored id', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const convId = await group(alice, [bob], 'redis loss, queued');
    const a = await connectAs(alice.accessToken, { instance: 0 });
    const b = await connectAs(bob.accessToken, { instance: 1 });
    const seen = record(b, 'message:new');
    const supersededAtB = record(b, 'message:superseded');
    const supersededAtA = record(a, 'message:superseded');
    let resent: Message;
    let first: Message;
    // Nothing stores while the connector is away: the acked message waits in the durable queue.
    await controlProc('connector', 'stop');
    try {
      const ack = await request(a, 'message:send', { conversationId: convId, clientMsgId: 'queued-1', body: 'in the queue' });
      expect(ack.ok).toBe(true);
      first = (ack as { message: Message }).message;
      await forgetRedis(alice.user.id, 'queued-1');
      const again = await request(a, 'message:send', { conversationId: convId, clientMsgId: 'queued-1', body: 'in the queue' });
      expect(again.ok).toBe(true);
      resent = (again as { message: Message }).message;
    } finally {
      await controlProc('connector', 'start');
    }
    try {
      // The store cannot know a queued message: the resend got an id of its own, and both were broadcast.
      expect(resent.id).not.toBe(first.id);
      const stored = await storedWhen(alice.accessToken, convId, (all) => all.length > 0, 'stored after the connector is back', 30_000, 250);
      expect(stored.map((m) => m.clientMsgId)).toEqual(['queued-1']);
      const kept = stored[0]!;
      const dropped = kept.id === first.id ? resent : first;
      // The unique index turned the other event away; the db function names it, and both
      // gateways tell their sockets (bob on gw2, alice on gw1).
      const told = await eventually(async () => (supersededAtB.length && supersededAtA.length ? supersededAtB : undefined), 'message:superseded at both members', 30_000, 100);
      expect(told).toEqual([{ conversationId: convId, messageId: dropped.id, message: kept }]);
      // On the wire exactly as documented (docs/api/events.md): parsing adds and drops nothing.
      expect(serverEventSchemas['message:superseded'].payload.parse(told[0])).toEqual(told[0]);
      expect(supersededAtA).toEqual(told);
      // The ledger learnt the kept message: a third resend is answered with it, and not broadcast.
      const third = await request(a, 'message:send', { conversationId: convId, clientMsgId: 'queued-1', body: 'in the queue' });
      expect(third).toMatchObject({ ok: true, message: { id: kept.id, createdAt: kept.createdAt } });
      // The dropped id never exists: an edit of it is refused, not accepted into nowhere.
      expect(await request(a, 'message:edit', { messageId: dropped.id, body: 'edited' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
      // A message later proves the queue has drained past everything above, and its broadcast
      // comes after any the third resend would have made.
      const arrived = nextEvent(b, 'message:new', (p) => p.message.clientMsgId === 'queued-2');
      const later = await request(a, 'message:send', { conversationId: convId, clientMsgId: 'queued-2', body: 'later' });
      expect(later.ok).toBe(true);
      await arrived;
      const both = await storedWhen(alice.accessToken, convId, (all) => all.some((m) => m.clientMsgId === 'queued-2'), 'the later message stored', 30_000, 250);
      expect(both.map((m) => [m.clientMsgId, m.id])).toEqual([['queued-1', kept.id], ['queued-2', (later as { message: Message }).message.id]]);
      expect(seen.filter((p) => p.message.clientMsgId === 'queued-1').map((p) => p.message.id)).toEqual([first.id, resent.id]);
      expect(supersededAtB).toHaveLength(1);
      console.log(`queued edge: first ${first.id}, resend ${resent.id}, kept ${kept.id === first.id ? 'the first' : 'the resend'}; message:superseded at bob ${supersededAtB.length}, at alice ${supersededAtA.length}`);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it('a gateway stopped (SIGTERM) under steady load: no failed ack, clients move to the other instance, nothing acked is lost', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => registerUser()));
    const convId = await group(users[0]!, users.slice(1), 'rolling');
    // Through the ingress, reconnecting as the web app does.
    const sockets = users.map((u) => connect(u.accessToken, { reconnection: true }));
    await Promise.all(sockets.map((s) => new Promise((r) => s.once('connect', r))));
    const acked = new Map<string, Message>();
    const failures: string[] = [];
    let resentAfterClose = 0;
    let stopped = false;
    let sentAfterStop = 0;
    type Outcome = Awaited<ReturnType<typeof request>> | 'closed' | 'timeout';
    // One send, settled by its ack, a timeout, or the socket closing under it: a request that was
    // on the wire when the instance closed is never answered, and the client resends it with the
    // same clientMsgId once reconnected (the web app's outbox does so on every connect).
    const sendOnce = (s: ClientSocket, clientMsgId: string) =>
      new Promise<Outcome>((resolve) => {
        const closed = () => resolve('closed');
        s.once('disconnect', closed);
        request(s, 'message:send', { conversationId: convId, clientMsgId, body: clientMsgId }, 15_000).then(
          (a) => (s.off('disconnect', closed), resolve(a)),
          () => (s.off('disconnect', closed), resolve('timeout')),
        );
      });
    const senders = sockets.map(async (s, c) => {
      for (let i = 0; !stopped || sentAfterStop < 60; i++) {
        const clientMsgId = `roll-${c}-${i}`;
        let outcome = await sendOnce(s, clientMsgId);
        while (outcome === 'closed') {
          resentAfterClose++;
          if (!s.connected) await new Promise((r) => s.once('connect', r));
          outcome = await sendOnce(s, clientMsgId);
        }
        if (outcome === 'timeout') failures.push(`${clientMsgId}: no ack`);
        else if (!outcome.ok) failures.push(`${clientMsgId}: ${outcome.error.code}`);
        else acked.set(clientMsgId, (outcome as { message: Message }).message);
        if (stopped) sentAfterStop++;
        await pause(20);
      }
    });
    while (acked.size < 60) await pause(10);
    await controlProc('gateway-1', 'stop');
    stopped = true;
    await Promise.all(senders);
    await controlProc('gateway-1', 'start');
    console.log(`SIGTERM under load: ${acked.size} acked, ${failures.length} failed acks, ${resentAfterClose} sends resent after the socket closed under them`);
    expect(failures).toEqual([]);
    const stored = await storedWhen(users[0]!.accessToken, convId, (all) => all.length >= acked.size, 'every acked message stored', 60_000, 250);
    expectStoredOnce(stored, acked);
    for (const s of sockets) s.disconnect();
  });
});

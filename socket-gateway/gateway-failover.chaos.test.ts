import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Message } from '@chat/shared/models/types';
import { allMessages, registerUser, storedWhen } from '../test/api.ts';
import { closeTestDb, createConversation } from '../test/db.ts';
import { connectAs, record, request, type ClientSocket } from '../test/socket.ts';
import { controlProc } from '../test/stack.ts';

afterAll(() => closeTestDb());
// Whatever the test's outcome, the instance it killed is started again: the files after it connect to it.
let killed = false;
afterEach(async () => {
  if (killed) await controlProc('gateway-1', 'start');
  killed = false;
});

describe('a gateway instance dies mid-stream', () => {
  it('clients move to the other instance, resend unacked messages and catch up: every acked message exactly once, in order', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const convId = (await createConversation('direct', [alice.user.id, bob.user.id])).id;
    const total = 200;
    const acked = new Map<string, Message>();

    let a: ClientSocket = await connectAs(alice.accessToken, { instance: 0 });
    let b: ClientSocket = await connectAs(bob.accessToken, { instance: 0 });
    let bobLive = record(b, 'message:new');

    const sendOne = async (socket: ClientSocket, i: number) => {
      const ack = await request(socket, 'message:send', { conversationId: convId, clientMsgId: `m${i}`, body: `message ${i}` }, 3000).catch(() => null);
      if (ack?.ok) acked.set(`m${i}`, (ack as { message: Message }).message);
    };

    // Stream with a few sends in flight, and kill the instance part-way through.
    let next = 0;
    const killing = (async () => {
      const until = Date.now() + 60_000;
      while (acked.size < 60 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await controlProc('gateway-1', 'kill');
      killed = true;
    })();
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        while (next < total && a.connected) await sendOne(a, next++);
      }),
    );
    await killing;
    expect(acked.size).toBeGreaterThanOrEqual(60);
    expect(acked.size).toBeLessThan(total);

    // Both reconnect; Alice through the ingress, still holding the dead instance's sticky cookie
    // (as a browser would): the ingress must send her to the survivor, not answer 502 until gw1 is back.
    const bobSeenBefore = bobLive.map((p) => p.message);
    a = await connectAs(alice.accessToken, { headers: { cookie: 'chat_gw=gw1' } });
    b = await connectAs(bob.accessToken, { instance: 1 });
    bobLive = record(b, 'message:new');
    // Alice resends everything not acked, with the same clientMsgId, then finishes the stream.
    for (let i = 0; i < total; i++) if (!acked.has(`m${i}`)) await sendOne(a, i);
    expect(acked.size).toBe(total);

    // Everything acked is stored exactly once, in order, within seconds.
    const stored = await storedWhen(bob.accessToken, convId, (all) => all.length >= total, 'every acked message stored', 30_000, 250);
    expect(stored.map((m) => m.clientMsgId).sort()).toEqual([...acked.keys()].sort());
    expect(stored.map((m) => m.id)).toEqual([...stored.map((m) => m.id)].sort());
    for (const m of stored) expect(m.id).toBe(acked.get(m.clientMsgId)!.id);

    // Bob's view: what he saw live before the crash + a catch-up with after= + live after it, no gap, no duplicate.
    const lastSeen = bobSeenBefore.length ? bobSeenBefore[bobSeenBefore.length - 1]!.id : '000000000000000000000000';
    const catchUp = await allMessages(bob.accessToken, convId, lastSeen);
    const view = new Map<string, Message>();
    for (const m of [...bobSeenBefore, ...catchUp, ...bobLive.map((p) => p.message)]) view.set(m.id, m);
    expect([...view.keys()].sort()).toEqual(stored.map((m) => m.id));
    expect(new Set(bobSeenBefore.map((m) => m.id)).size).toBe(bobSeenBefore.length);

    a.disconnect();
    b.disconnect();
  });
});

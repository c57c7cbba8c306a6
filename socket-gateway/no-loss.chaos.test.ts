import { afterAll, describe, expect, it } from 'vitest';
import type { Message } from '@chat/shared/models/types';
import { api, registerUser, storedWhen } from '../test/api.ts';
import { closeTestDb } from '../test/db.ts';
import { connectAs, request, type ClientSocket } from '../test/socket.ts';
import { controlProc } from '../test/stack.ts';

afterAll(() => closeTestDb());

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('storage failures behind the gateway', () => {
  it('1,000 messages sent by several clients while the db function and the connector die: every acked message stored exactly once, in order', async () => {
    const users = await Promise.all([registerUser(), registerUser(), registerUser(), registerUser()]);
    const created = await api('POST', '/api/db/conversations', {
      token: users[0]!.accessToken,
      body: { type: 'group', title: 'no loss', memberIds: users.slice(1).map((u) => u.user.id) },
    });
    expect(created.status).toBe(201);
    const convId = created.body.conversation.id as string;
    // Each client on its own socket, spread over both instances.
    const sockets: ClientSocket[] = await Promise.all(users.map((u, i) => connectAs(u.accessToken, { instance: i % 2 })));
    const acked = new Map<string, Message>();
    const perClient = 250;

    const senders = sockets.map(async (s, c) => {
      for (let i = 0; i < perClient; i++) {
        const clientMsgId = `c${c}-${i}`;
        // Resend on anything but ok, with the same clientMsgId, as a client would after a timeout.
        for (let attempt = 0; ; attempt++) {
          const ack = await request(s, 'message:send', { conversationId: convId, clientMsgId, body: `client ${c} message ${i}` }, 5000).catch(() => null);
          if (ack?.ok) {
            acked.set(clientMsgId, (ack as { message: Message }).message);
            break;
          }
          expect(attempt).toBeLessThan(20);
          await pause(100);
        }
      }
    });
    const chaos = (async () => {
      while (acked.size < 150) await pause(10);
      await controlProc('db', 'kill');
      while (acked.size < 400) await pause(10);
      await controlProc('connector', 'kill');
      while (acked.size < 600) await pause(10);
      await controlProc('db', 'start');
      await controlProc('connector', 'start');
    })();
    await Promise.all([...senders, chaos]);
    expect(acked.size).toBe(1000);

    const stored = await storedWhen(users[0]!.accessToken, convId, (all) => all.length >= 1000, 'every acked message stored', 60_000, 250);
    expect(stored).toHaveLength(1000);
    expect(new Set(stored.map((m) => m.clientMsgId)).size).toBe(1000);
    for (const m of stored) expect(m.id).toBe(acked.get(m.clientMsgId)?.id);
    const ids = stored.map((m) => m.id);
    expect(ids).toEqual([...ids].sort());
    // Each client's messages are stored in the order it sent them.
    for (let c = 0; c < users.length; c++) {
      const mine = stored.filter((m) => m.clientMsgId.startsWith(`c${c}-`)).map((m) => Number(m.clientMsgId.split('-')[1]));
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
    for (const s of sockets) s.disconnect();
  });
});

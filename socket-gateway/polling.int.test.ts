import { afterAll, describe, expect, it } from 'vitest';
import type { Message } from '@chat/shared/models/types';
import { api, registerUser } from '../test/api.ts';
import { closeTestDb } from '../test/db.ts';
import { connect, connectAs, nextEvent, request } from '../test/socket.ts';

afterAll(() => closeTestDb());

describe('long-polling without cookies', () => {
  it('a client that keeps no cookies, on polling only, through the ingress: every request reaches its session', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const created = await api('POST', '/api/db/conversations', { token: alice.accessToken, body: { type: 'group', title: 'polling', memberIds: [bob.user.id] } });
    expect(created.status).toBe(201);
    const convId = created.body.conversation.id as string;
    // Node's client keeps no cookies: nothing but the session id says which instance holds it.
    const a = connect(alice.accessToken, { transports: ['polling'], withCredentials: false });
    const problems: string[] = [];
    a.on('connect_error', (e) => problems.push(`connect_error: ${e.message}`));
    a.on('disconnect', (reason) => problems.push(`disconnect: ${reason}`));
    await new Promise((resolve, reject) => {
      a.once('connect', resolve);
      // Without stickiness a session's requests alternate between instances: "xhr post error".
      a.once('connect_error', reject);
    });
    const b = await connectAs(bob.accessToken);
    try {
      expect(a.io.engine.transport.name).toBe('polling');
      const sent: Message[] = [];
      for (let i = 0; i < 20; i++) {
        const arrived = nextEvent(b, 'message:new', (p) => p.message.clientMsgId === `poll-${i}`);
        const ack = await request(a, 'message:send', { conversationId: convId, clientMsgId: `poll-${i}`, body: `over polling ${i}` });
        expect(ack.ok).toBe(true);
        sent.push((await arrived).message);
      }
      // ... and the other way: pushed to the polling client's pending GET.
      const incoming = nextEvent(a, 'message:new', (p) => p.message.clientMsgId === 'to-poller');
      expect((await request(b, 'message:send', { conversationId: convId, clientMsgId: 'to-poller', body: 'hello poller' })).ok).toBe(true);
      expect((await incoming).message.body).toBe('hello poller');
      expect(sent).toHaveLength(20);
      expect(a.connected).toBe(true);
      expect(a.io.engine.transport.name).toBe('polling');
      expect(problems).toEqual([]);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { registerUser } from '../test/api.ts';
import { closeTestDb, createConversation } from '../test/db.ts';
import { connectAs, request } from '../test/socket.ts';
import { controlProc } from '../test/stack.ts';

afterAll(() => closeTestDb());

describe('RabbitMQ unreachable', () => {
  it('acks sends `unavailable` (never ok) while the broker is away, and recovers by itself when it returns', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const convId = (await createConversation('direct', [alice.user.id, bob.user.id])).id;
    const a = await connectAs(alice.accessToken, { instance: 0 });
    try {
      expect((await request(a, 'message:send', { conversationId: convId, clientMsgId: 'before', body: 'before' })).ok).toBe(true);

      await controlProc('broker-proxy', 'kill');
      const during = [];
      for (let i = 0; i < 5; i++) during.push(await request(a, 'message:send', { conversationId: convId, clientMsgId: `during-${i}`, body: `during ${i}` }, 15_000));
      expect(during.map((x) => (x.ok ? 'ok' : x.error.code))).toEqual(Array(5).fill('unavailable'));
      expect(a.connected).toBe(true);

      await controlProc('broker-proxy', 'start');
      // The gateway reconnects on its own; the client just retries with the same clientMsgId.
      const deadline = Date.now() + 20_000;
      let retried = await request(a, 'message:send', { conversationId: convId, clientMsgId: 'during-0', body: 'during 0' });
      while (!retried.ok && Date.now() < deadline) {
        expect(retried).toMatchObject({ ok: false, error: { code: 'unavailable' } });
        await new Promise((r) => setTimeout(r, 250));
        retried = await request(a, 'message:send', { conversationId: convId, clientMsgId: 'during-0', body: 'during 0' });
      }
      expect(retried).toMatchObject({ ok: true, message: { clientMsgId: 'during-0', body: 'during 0' } });
    } finally {
      a.disconnect();
    }
  });
});

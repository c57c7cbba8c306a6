import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { api, registerUser } from '../../../test/api.ts';
import { connectAs, nextEvent, request, type ClientSocket } from '../../../test/socket.ts';
import { clientEventSchemas, serverEventSchemas } from './socket-schemas.ts';

/**
 * What the running gateway emits and acknowledges is exactly what the event schemas (and so
 * docs/api/asyncapi.json) say: every payload parses, and parsing changes nothing, so no field
 * is on the wire that the schema does not name (zod drops those) and none is missing (a default
 * would be filled in).
 */
describe('socket events on the wire match their schemas', () => {
  const sockets: ClientSocket[] = [];
  const received: Array<{ to: string; event: string; payload: unknown }> = [];

  afterAll(() => {
    for (const s of sockets) s.disconnect();
  });

  const record = (name: string, s: ClientSocket) => {
    sockets.push(s);
    s.onAny((event: string, payload: unknown) => received.push({ to: name, event, payload }));
    return s;
  };

  const exact = (schema: { safeParse: (v: unknown) => { success: boolean; data?: unknown; error?: unknown } }, value: unknown, what: string) => {
    const r = schema.safeParse(value);
    expect(r.success, `${what}: ${JSON.stringify(r.error)}`).toBe(true);
    expect(isDeepStrictEqual(r.data, value), `${what}: the payload has fields its schema does not describe, or lacks some: ${JSON.stringify(value)}`).toBe(true);
  };

  it('for every server event and ack a conversation goes through', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    const a = record('alice', await connectAs(alice.accessToken));
    const bobOnline = nextEvent(a, 'presence', (p) => p.userId === bob.user.id && p.status === 'online');
    const b = record('bob', await connectAs(bob.accessToken));

    const created = nextEvent(b, 'conversation:new');
    const conv = await api('POST', '/api/db/conversations', { token: alice.accessToken, body: { type: 'group', title: 'Schemas', memberIds: [bob.user.id] } });
    expect(conv.status).toBe(201);
    const conversationId = conv.body.conversation.id as string;
    await Promise.all([created, bobOnline]);

    const acks: Array<[keyof typeof clientEventSchemas, unknown]> = [];
    const ask = async <E extends keyof typeof clientEventSchemas>(s: ClientSocket, event: E, payload: any) => {
      const ack = await (request as (s: ClientSocket, e: string, p: unknown) => Promise<unknown>)(s, event, payload);
      acks.push([event, ack]);
      return ack as any;
    };

    const typing = nextEvent(b, 'typing', (p) => p.isTyping);
    await ask(a, 'typing', { conversationId, isTyping: true });
    await typing;
    const arrived = nextEvent(b, 'message:new');
    const sent = await ask(a, 'message:send', { conversationId, clientMsgId: 'schema-1', body: '**hello**' });
    expect(sent.ok).toBe(true);
    await arrived;
    const messageId = sent.message.id as string;
    const read = nextEvent(a, 'read');
    await ask(b, 'read', { conversationId, messageId });
    await read;
    const reacted = nextEvent(a, 'message:updated', (p) => p.message.reactions.length > 0);
    await ask(b, 'reaction:toggle', { messageId, emoji: '👍' });
    await reacted;
    const edited = nextEvent(b, 'message:updated', (p) => p.message.editedAt !== null);
    await ask(a, 'message:edit', { messageId, body: 'edited' });
    await edited;
    const deleted = nextEvent(b, 'message:deleted');
    await ask(a, 'message:delete', { messageId });
    await deleted;
    // An error ack has the same documented shape.
    const refused = await ask(a, 'message:send', { conversationId, clientMsgId: 'schema-2', body: '' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    await ask(a, 'auth:renew', { token: alice.accessToken });

    const updated = nextEvent(b, 'conversation:updated');
    expect((await api('POST', `/api/db/conversations/${conversationId}/members`, { token: alice.accessToken, body: { userIds: [carol.user.id] } })).status).toBe(200);
    await updated;
    const removed = nextEvent(b, 'conversation:removed');
    expect((await api('DELETE', `/api/db/conversations/${conversationId}/members/${bob.user.id}`, { token: alice.accessToken })).status).toBe(204);
    await removed;
    const renamed = nextEvent(a, 'user:updated');
    expect((await api('PATCH', '/api/auth/me', { token: alice.accessToken, body: { displayName: 'Alice Schemas' } })).status).toBe(200);
    await renamed;

    const seen = new Set(received.map((r) => r.event));
    for (const e of ['presence', 'conversation:new', 'typing', 'message:new', 'read', 'message:updated', 'message:deleted', 'conversation:updated', 'conversation:removed', 'user:updated']) expect(seen, e).toContain(e);
    for (const r of received) {
      const schema = serverEventSchemas[r.event as keyof typeof serverEventSchemas];
      expect(schema, `an event without a schema: ${r.event}`).toBeDefined();
      exact(schema.payload, r.payload, `${r.event} to ${r.to}`);
    }
    for (const [event, ack] of acks) exact(clientEventSchemas[event].ack, ack, `${event} ack`);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthSession } from '@chat/shared/models/types';
import { loadSigningKeys } from '../functions/auth/src/keys.ts';
import { api, registerUser } from '../test/api.ts';
import { closeBus, eventually, recordBus } from '../test/bus.ts';
import { closeTestDb, createConversation } from '../test/db.ts';
import { connect, connectAs, nextEvent, record, request, type ClientSocket } from '../test/socket.ts';
import { stack } from '../test/stack.ts';

const sockets: ClientSocket[] = [];
const open = async (token: string, opts: { instance?: number; transports?: string[] } = {}) => {
  const s = await connectAs(token, opts);
  sockets.push(s);
  return s;
};
afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});
afterAll(() => Promise.all([closeTestDb(), closeBus()]));

let n = 0;
const cmid = () => `c-${Date.now()}-${n++}`;

describe('handshake', () => {
  it.each([
    ['no token', undefined],
    ['a garbage token', 'not-a-jwt'],
  ])('refuses %s with connect_error "unauthorized"', async (_n, token) => {
    const s = connect(token, { instance: 0 });
    const err = await new Promise<Error>((resolve) => s.once('connect_error', resolve));
    s.disconnect();
    expect(err.message).toBe('unauthorized');
  });
});

describe('messaging across two gateway instances', () => {
  let alice: AuthSession;
  let bob: AuthSession;
  let carol: AuthSession;
  let convId: string;
  beforeAll(async () => {
    [alice, bob, carol] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    convId = (await createConversation('direct', [alice.user.id, bob.user.id])).id;
  });

  it('delivers message:new to the other member on the other instance and to the sender\'s other sockets', async () => {
    const a1 = await open(alice.accessToken, { instance: 0 });
    const a2 = await open(alice.accessToken, { instance: 1 });
    const b = await open(bob.accessToken, { instance: 1 });
    const a1Seen = record(a1, 'message:new');
    const atBob = nextEvent(b, 'message:new');
    const atA2 = nextEvent(a2, 'message:new');
    const ack = await request(a1, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: '  hello bob  ' });
    expect(ack).toMatchObject({ ok: true, message: { conversationId: convId, senderId: alice.user.id, body: 'hello bob', attachments: [], reactions: [], replyToId: null, editedAt: null, deletedAt: null } });
    const message = (ack as any).message;
    expect((await atBob).message).toEqual(message);
    expect((await atA2).message).toEqual(message);
    expect(a1Seen).toEqual([]);
  });

  it('a resend with the same clientMsgId acks the same message and broadcasts nothing new', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const b = await open(bob.accessToken, { instance: 1 });
    const seen = record(b, 'message:new');
    const id = cmid();
    const first = await request(a, 'message:send', { conversationId: convId, clientMsgId: id, body: 'once' });
    const again = await request(a, 'message:send', { conversationId: convId, clientMsgId: id, body: 'once' });
    // and from the other instance, as after a reconnect elsewhere
    const a2 = await open(alice.accessToken, { instance: 1 });
    const third = await request(a2, 'message:send', { conversationId: convId, clientMsgId: id, body: 'once' });
    expect((again as any).message).toEqual((first as any).message);
    expect((third as any).message).toEqual((first as any).message);
    // a later message marks the point by which any duplicate broadcast would have arrived
    const markerSeen = nextEvent(b, 'message:new', (p) => p.message.body === 'marker');
    await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'marker' });
    await markerSeen;
    expect(seen.map((p) => p.message.body)).toEqual(['once', 'marker']);
  });

  it('the message.created event names the conversation\'s members, for consumers that need only the recipients', async () => {
    const { events: seen, stop } = await recordBus('message.created');
    const a = await open(alice.accessToken);
    const ack = (await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'who hears this?' })) as any;
    const event = await eventually(async () => seen.find((e) => e.message.id === ack.message.id), 'the published event');
    expect(event.message).toEqual(ack.message);
    expect([...event.memberIds!].sort()).toEqual([alice.user.id, bob.user.id].sort());
    await stop();
  });

  it('ids sort in createdAt order within a conversation', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const b = await open(bob.accessToken, { instance: 1 });
    const acks = [];
    for (let i = 0; i < 10; i++) {
      const from = i % 2 ? b : a;
      acks.push((await request(from, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: `m${i}` })) as any);
    }
    const ids = acks.map((x) => x.message.id);
    expect([...ids].sort()).toEqual(ids);
    const times = acks.map((x) => Date.parse(x.message.createdAt));
    expect([...times].sort((p, q) => p - q)).toEqual(times);
  });

  it('an outsider gets not_found and sees no events', async () => {
    const c = await open(carol.accessToken, { instance: 0 });
    const a = await open(alice.accessToken, { instance: 1 });
    const seen = record(c, 'message:new');
    const typing = record(c, 'typing');
    const ack = await request(c, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'let me in' });
    expect(ack).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await request(c, 'typing', { conversationId: convId, isTyping: true })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const sent = await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'private' });
    expect(sent.ok).toBe(true);
    await request(a, 'typing', { conversationId: convId, isTyping: false });
    // a round trip on carol's own socket orders after any event that could have reached her
    await request(c, 'typing', { conversationId: 'zzz', isTyping: false });
    expect(seen).toEqual([]);
    expect(typing).toEqual([]);
  });

  it.each([
    ['no payload', undefined],
    ['a missing body', { conversationId: 'x', clientMsgId: 'y' }],
    ['an empty body', { conversationId: 'x', clientMsgId: 'y', body: '   ' }],
    ['a body over 4000 characters', { conversationId: 'x', clientMsgId: 'y', body: 'a'.repeat(4001) }],
    ['a non-string body', { conversationId: 'x', clientMsgId: 'y', body: { $gt: '' } }],
    ['an operator as conversation id', { conversationId: { $ne: null }, clientMsgId: 'y', body: 'hi' }],
    ['an unknown field', { conversationId: 'x', clientMsgId: 'y', body: 'hi', senderId: 'someone' }],
    ['too many attachments', { conversationId: 'x', clientMsgId: 'y', body: 'hi', attachments: Array.from({ length: 11 }, (_, i) => `f${i}`) }],
  ])('refuses %s with invalid_request and keeps the socket connected', async (_n, payload) => {
    const a = await open(alice.accessToken, { instance: 0 });
    const ack = await request(a, 'message:send', payload as never);
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid_request', message: expect.any(String) } });
    expect(a.connected).toBe(true);
    expect((await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'still here' })).ok).toBe(true);
  });

  it('attachments that are not completed files of the conversation are refused', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const ack = await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: '', attachments: ['nosuchfile'] });
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
  });

  it('replies must point at a message of the same conversation', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const first = (await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'question?' })) as any;
    const reply = (await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'answer', replyToId: first.message.id })) as any;
    expect(reply.message.replyToId).toBe(first.message.id);
    const bad = await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'answer', replyToId: 'ffffffffffffffffffffffff' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
  });
});

describe('edits, deletes, reactions and reads', () => {
  let alice: AuthSession;
  let bob: AuthSession;
  let convId: string;
  beforeAll(async () => {
    [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    convId = (await createConversation('group', [alice.user.id, bob.user.id], 'Team')).id;
  });

  it('the sender edits; others get message:updated; a non-sender is forbidden', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const b = await open(bob.accessToken, { instance: 1 });
    const sent = (await request(b, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'typo' })) as any;
    const updated = nextEvent(a, 'message:updated');
    const edit = (await request(b, 'message:edit', { messageId: sent.message.id, body: 'fixed' })) as any;
    expect(edit).toMatchObject({ ok: true, message: { id: sent.message.id, body: 'fixed', editedAt: expect.any(String) } });
    expect((await updated).message).toEqual(edit.message);
    expect(await request(a, 'message:edit', { messageId: sent.message.id, body: 'hijack' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('reaction:toggle adds then removes the caller\'s reaction', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const b = await open(bob.accessToken, { instance: 1 });
    const sent = (await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'react to me' })) as any;
    const seen = nextEvent(a, 'message:updated');
    const on = (await request(b, 'reaction:toggle', { messageId: sent.message.id, emoji: '👍' })) as any;
    expect(on.message.reactions).toEqual([{ emoji: '👍', userIds: [bob.user.id] }]);
    expect((await seen).message.reactions).toEqual(on.message.reactions);
    const both = (await request(a, 'reaction:toggle', { messageId: sent.message.id, emoji: '👍' })) as any;
    expect(both.message.reactions).toEqual([{ emoji: '👍', userIds: [bob.user.id, alice.user.id] }]);
    const off = (await request(b, 'reaction:toggle', { messageId: sent.message.id, emoji: '👍' })) as any;
    expect(off.message.reactions).toEqual([{ emoji: '👍', userIds: [alice.user.id] }]);
  });

  it('a group admin may delete another member\'s message; a member may not delete the admin\'s', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const b = await open(bob.accessToken, { instance: 1 });
    const byBob = (await request(b, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'oops' })) as any;
    const byAlice = (await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'keep' })) as any;
    const deleted = nextEvent(b, 'message:deleted');
    expect(await request(a, 'message:delete', { messageId: byBob.message.id })).toEqual({ ok: true });
    expect(await deleted).toEqual({ conversationId: convId, messageId: byBob.message.id });
    expect(await request(b, 'message:delete', { messageId: byAlice.message.id })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(b, 'message:edit', { messageId: byBob.message.id, body: 'resurrect' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('read broadcasts the new position to the conversation', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const b = await open(bob.accessToken, { instance: 1 });
    const sent = (await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'read me' })) as any;
    const read = nextEvent(a, 'read', (p) => p.userId === bob.user.id);
    expect(await request(b, 'read', { conversationId: convId, messageId: sent.message.id })).toEqual({ ok: true });
    expect(await read).toEqual({ conversationId: convId, userId: bob.user.id, messageId: sent.message.id });
    // The db function stored it (it is the only writer): the conversation shows bob's position.
    await eventually(async () => {
      const conv = (await api<any>('GET', `/api/db/conversations/${convId}`, { token: alice.accessToken })).body.conversation;
      return conv.readPositions.some((p: { userId: string; messageId: string }) => p.userId === bob.user.id && p.messageId === sent.message.id) ? true : undefined;
    }, 'read position stored');
  });

  it('a read over HTTP reaches the other members\' sockets the same way, once', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const a2 = await open(alice.accessToken, { instance: 1 });
    const sent = (await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'read me over http' })) as any;
    const reads = record(a, 'read');
    const atA2 = nextEvent(a2, 'read', (p) => p.messageId === sent.message.id);
    // POST /read needs the message stored; until then it answers 404, so try until it is.
    await eventually(async () => ((await api('POST', `/api/db/conversations/${convId}/read`, { token: bob.accessToken, body: { messageId: sent.message.id } })).status === 204 ? true : undefined), 'read accepted');
    expect(await atA2).toEqual({ conversationId: convId, userId: bob.user.id, messageId: sent.message.id });
    await eventually(async () => (reads.some((p: any) => p.messageId === sent.message.id) ? true : undefined), 'read on the first instance');
    // Sent by each gateway to its own sockets only: nothing arrives twice.
    const sentinel = (await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: 'sentinel' })) as any;
    await eventually(async () => ((await api('POST', `/api/db/conversations/${convId}/read`, { token: bob.accessToken, body: { messageId: sentinel.message.id } })).status === 204 ? true : undefined), 'second read');
    await eventually(async () => (reads.some((p: any) => p.messageId === sentinel.message.id) ? true : undefined), 'second read relayed');
    expect(reads.filter((p: any) => p.messageId === sent.message.id)).toHaveLength(1);
  });
});

describe('typing and presence', () => {
  let alice: AuthSession;
  let bob: AuthSession;
  let convId: string;
  beforeAll(async () => {
    [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    convId = (await createConversation('direct', [alice.user.id, bob.user.id])).id;
  });

  it('typing reaches the other instance and stops by itself after 6 s', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const b = await open(bob.accessToken, { instance: 1 });
    const started = nextEvent(b, 'typing');
    const t0 = Date.now();
    expect(await request(a, 'typing', { conversationId: convId, isTyping: true })).toEqual({ ok: true });
    expect(await started).toEqual({ conversationId: convId, userId: alice.user.id, isTyping: true });
    expect(await nextEvent(b, 'typing', () => true, 10_000)).toEqual({ conversationId: convId, userId: alice.user.id, isTyping: false });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5900);
  });

  it('announces online and offline across instances; several sockets keep a user online', async () => {
    const a = await open(alice.accessToken, { instance: 0 });
    const online = nextEvent(a, 'presence', (p) => p.userId === bob.user.id && p.status === 'online');
    const b1 = await open(bob.accessToken, { instance: 1 });
    expect(await online).toMatchObject({ userId: bob.user.id, status: 'online' });
    const b2 = await open(bob.accessToken, { instance: 0 });
    const offline = nextEvent(a, 'presence', (p) => p.userId === bob.user.id && p.status === 'offline');
    const early = record(a, 'presence');
    b1.disconnect();
    // bob is still online through b2: a round trip later, no offline has been announced
    await request(a, 'typing', { conversationId: convId, isTyping: false });
    await request(b2, 'typing', { conversationId: convId, isTyping: false });
    expect(early.filter((p) => p.status === 'offline')).toEqual([]);
    b2.disconnect();
    const off = await offline;
    expect(off.lastSeen).toEqual(expect.any(String));
  });

  it('a new socket learns which contacts are already online', async () => {
    const b = await open(bob.accessToken, { instance: 1 });
    const a = connect(alice.accessToken, { instance: 0 });
    sockets.push(a);
    const known = await nextEvent(a, 'presence', (p) => p.userId === bob.user.id);
    expect(known.status).toBe('online');
    expect(b.connected).toBe(true);
  });
});

describe('through the ingress', () => {
  it.each([[['websocket']], [['polling']]])('connects and sends over %j', async (transports) => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const convId = (await createConversation('direct', [alice.user.id, bob.user.id])).id;
    const a = await open(alice.accessToken, { transports });
    const b = await open(bob.accessToken, { instance: 0 });
    const got = nextEvent(b, 'message:new');
    const ack = (await request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: `via ${transports[0]}` })) as any;
    expect(ack.ok).toBe(true);
    expect((await got).message.id).toBe(ack.message.id);
  });
});

describe('limits and token renewal', () => {
  it('senders over 30 messages per 10 s get rate_limited', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const convId = (await createConversation('direct', [alice.user.id, bob.user.id])).id;
    const a = await open(alice.accessToken, { instance: 0 });
    const acks = await Promise.all(Array.from({ length: 31 }, (_, i) => request(a, 'message:send', { conversationId: convId, clientMsgId: cmid(), body: `burst ${i}` })));
    expect(acks.filter((x) => x.ok)).toHaveLength(30);
    expect(acks.filter((x) => !x.ok)).toEqual([{ ok: false, error: { code: 'rate_limited', message: expect.any(String) } }]);
  });

  it('auth:renew accepts a fresh token of the same user and refuses another user\'s', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const a = await open(alice.accessToken, { instance: 0 });
    const ok = (await request(a, 'auth:renew', { token: alice.accessToken })) as any;
    expect(ok).toMatchObject({ ok: true, expiresAt: expect.any(String) });
    expect(await request(a, 'auth:renew', { token: bob.accessToken })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(a, 'auth:renew', { token: 'garbage' })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });
});

describe('token expiry', () => {
  it('warns a socket whose token runs out, disconnects it at exp, and keeps one that renewed', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    const convId = (await createConversation('direct', [alice.user.id, bob.user.id])).id;
    const keys = await loadSigningKeys(readFileSync(path.join(stack().env.SECRETS_DIR!, 'jwt-signing-keys'), 'utf8').trim());
    const env = stack().env;
    const shortLived = await keys.sign({ sub: alice.user.id, issuer: env.JWT_ISSUER ?? 'chat-auth', audience: env.JWT_AUDIENCE ?? 'chat', ttlSeconds: 3 });
    const exp = JSON.parse(Buffer.from(shortLived.split('.')[1]!, 'base64url').toString()).exp as number;
    // Same instance and same exp: without the renewal both would go in the same instant.
    const [lapsing, renewing] = [connect(shortLived, { instance: 0 }), connect(shortLived, { instance: 0 })];
    sockets.push(lapsing, renewing);
    // Less than a minute left: both are warned right away.
    const warnings = await Promise.all([nextEvent(lapsing, 'auth:expiring'), nextEvent(renewing, 'auth:expiring')]);
    expect(warnings).toEqual([{ expiresAt: new Date(exp * 1000).toISOString() }, { expiresAt: new Date(exp * 1000).toISOString() }]);
    expect(await request(renewing, 'auth:renew', { token: alice.accessToken })).toMatchObject({ ok: true });
    const reason = await new Promise<string>((resolve) => lapsing.once('disconnect', resolve));
    expect(reason).toBe('io server disconnect');
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
    expect(await request(renewing, 'typing', { conversationId: convId, isTyping: false })).toEqual({ ok: true });
    expect(renewing.connected).toBe(true);
  });
});

describe('probes', () => {
  it('each instance answers /healthz and, with Mongo, Redis and RabbitMQ reachable, /readyz', async () => {
    for (const port of stack().ports.gateways) {
      const live = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await live.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    }
  });
});

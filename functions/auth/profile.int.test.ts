import { afterEach, describe, expect, it } from 'vitest';
import { api, registerUser } from '../../test/api.ts';
import { connectAs, nextEvent, record, type ClientSocket } from '../../test/socket.ts';

const A = '/api/auth';
const sockets: ClientSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});
const live = async (token: string) => {
  const s = await connectAs(token);
  sockets.push(s);
  return s;
};

describe('PATCH /me', () => {
  it('renames the user, and members of a shared conversation (and the user elsewhere) get user:updated; strangers do not', async () => {
    const [alice, bob, stranger] = await Promise.all([registerUser(), registerUser(), registerUser()]);
    const conv = await api('POST', '/api/db/conversations', { token: alice.accessToken, body: { type: 'direct', memberIds: [bob.user.id] } });
    expect(conv.status).toBe(201);
    // Bob's view, read first, keeps the old name in the db function's profile cache.
    const nameInBobsView = async () => {
      const seen = await api('GET', `/api/db/conversations/${conv.body.conversation.id}`, { token: bob.accessToken });
      return seen.body.conversation.members.find((m: { id: string }) => m.id === alice.user.id).displayName;
    };
    expect(await nameInBobsView()).toBe(alice.user.displayName);
    const [bobSocket, aliceOther, strangerSocket] = await Promise.all([live(bob.accessToken), live(alice.accessToken), live(stranger.accessToken)]);
    const strangerSaw = record(strangerSocket, 'user:updated');
    const bobSees = nextEvent(bobSocket, 'user:updated', (p) => p.user.id === alice.user.id);
    const aliceSees = nextEvent(aliceOther, 'user:updated', (p) => p.user.id === alice.user.id);

    const res = await api('PATCH', `${A}/me`, { token: alice.accessToken, body: { displayName: '  Alice Liddell ' } });
    expect(res.status).toBe(200);
    const expected = { id: alice.user.id, username: alice.user.username, displayName: 'Alice Liddell', avatarUrl: null };
    expect(res.body).toEqual({ user: expected });
    expect((await bobSees).user).toEqual(expected);
    expect((await aliceSees).user).toEqual(expected);
    // What GET /me and the members' view read now.
    expect((await api('GET', `${A}/me`, { token: alice.accessToken })).body.user.displayName).toBe('Alice Liddell');
    expect(await nameInBobsView()).toBe('Alice Liddell');
    // The new name is found by user search (its prefix keys were rebuilt).
    const found = await api('GET', '/api/db/users?q=liddell', { token: bob.accessToken });
    expect(found.body.users.map((u: { id: string }) => u.id)).toContain(alice.user.id);
    // A fence: the stranger's own rename reaches the stranger's socket after Alice's event was handled.
    await api('PATCH', `${A}/me`, { token: stranger.accessToken, body: { displayName: 'Fence' } });
    await nextEvent(strangerSocket, 'user:updated', (p) => p.user.id === stranger.user.id);
    expect(strangerSaw.map((p) => p.user.id)).toEqual([stranger.user.id]);
  });

  it('refuses bad input with the error shape and changes nothing', async () => {
    const u = await registerUser();
    for (const body of [{ displayName: '' }, { displayName: '   ' }, { displayName: 'x'.repeat(65) }, { displayName: 7 }, { username: 'root' }, { displayName: 'ok', $set: {} }]) {
      const res = await api('PATCH', `${A}/me`, { token: u.accessToken, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect((await api('PATCH', `${A}/me`, { token: u.accessToken, raw: '{', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await api('GET', `${A}/me`, { token: u.accessToken })).body.user).toEqual(u.user);
    // An empty patch changes nothing and answers with the user.
    expect((await api('PATCH', `${A}/me`, { token: u.accessToken, body: {} })).body).toEqual({ user: u.user });
  });

  it('needs a valid bearer token', async () => {
    expect((await api('PATCH', `${A}/me`, { body: { displayName: 'x' } })).status).toBe(401);
    const res = await api('PATCH', `${A}/me`, { token: 'not-a-token', body: { displayName: 'x' } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });
});

describe('POST /password', () => {
  const login = async (username: string, password: string) => api('POST', `${A}/login`, { body: { username, password } });

  it('changes the password and signs out the other sessions; the session that asked stays signed in', async () => {
    const u = await registerUser();
    const other = (await login(u.user.username, u.password)).body;
    const third = (await login(u.user.username, u.password)).body;
    const res = await api('POST', `${A}/password`, {
      token: u.accessToken,
      body: { currentPassword: u.password, newPassword: 'a brand new secret' },
      headers: { cookie: `refresh_token=${u.refreshToken}` },
    });
    expect(res.status).toBe(204);
    // The other sessions' refresh families are revoked...
    expect((await api('POST', `${A}/refresh`, { body: { refreshToken: other.refreshToken } })).status).toBe(401);
    expect((await api('POST', `${A}/refresh`, { body: { refreshToken: third.refreshToken } })).status).toBe(401);
    // ...the caller's is not.
    const mine = await api('POST', `${A}/refresh`, { body: { refreshToken: u.refreshToken } });
    expect(mine.status).toBe(200);
    expect((await login(u.user.username, u.password)).status).toBe(401);
    expect((await login(u.user.username, 'a brand new secret')).status).toBe(200);
  });

  it('without the current session token, signs out every session', async () => {
    const u = await registerUser();
    const res = await api('POST', `${A}/password`, { token: u.accessToken, body: { currentPassword: u.password, newPassword: 'another secret 1' } });
    expect(res.status).toBe(204);
    expect((await api('POST', `${A}/refresh`, { body: { refreshToken: u.refreshToken } })).status).toBe(401);
  });

  it('is 401 with a wrong current password, 400 with a bad new one, and changes nothing', async () => {
    const u = await registerUser();
    const other = (await login(u.user.username, u.password)).body;
    const wrong = await api('POST', `${A}/password`, { token: u.accessToken, body: { currentPassword: 'not it at all', newPassword: 'a brand new secret' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
    for (const body of [{ currentPassword: u.password, newPassword: 'short' }, { currentPassword: u.password }, { currentPassword: u.password, newPassword: 'a brand new secret', extra: 1 }]) {
      const res = await api('POST', `${A}/password`, { token: u.accessToken, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect((await api('POST', `${A}/password`, { body: { currentPassword: u.password, newPassword: 'a brand new secret' } })).status).toBe(401);
    expect((await login(u.user.username, u.password)).status).toBe(200);
    expect((await api('POST', `${A}/refresh`, { body: { refreshToken: other.refreshToken } })).status).toBe(200);
  });
});

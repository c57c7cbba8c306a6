import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { AuthSession } from '@chat/shared/models/types';
import { api, registerUser } from '../../test/api.ts';
import { connectAs, nextEvent } from '../../test/socket.ts';
import { stack } from '../../test/stack.ts';

const F = '/api/file';
const put = (ticket: { uploadUrl: string; headers: Record<string, string> }, bytes: Buffer) =>
  fetch(ticket.uploadUrl, { method: 'PUT', headers: ticket.headers, body: new Uint8Array(bytes) });
const image = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .jpeg()
    .toBuffer();

async function uploadAvatar(u: AuthSession, bytes: Buffer, contentType = 'image/jpeg') {
  const start = await api('POST', `${F}/avatar`, { token: u.accessToken, body: { size: bytes.length, contentType } });
  expect(start.status).toBe(201);
  expect((await put(start.body, bytes)).status).toBe(200);
  return api('POST', `${F}/avatar/${start.body.uploadId}/complete`, { token: u.accessToken });
}

describe('avatars', () => {
  it('turns an uploaded image into a square WebP any signed-in client can load, and members get user:updated', async () => {
    const [alice, bob] = await Promise.all([registerUser(), registerUser()]);
    expect(alice.user.avatarUrl).toBeNull();
    await api('POST', '/api/db/conversations', { token: alice.accessToken, body: { type: 'direct', memberIds: [bob.user.id] } });
    // Bob's list, read first, keeps Alice without an avatar in the db function's profile cache.
    const alicesAvatarInBobsList = async () => {
      const list = await api('GET', '/api/db/conversations', { token: bob.accessToken });
      return list.body.conversations[0].members.find((m: { id: string }) => m.id === alice.user.id).avatarUrl;
    };
    expect(await alicesAvatarInBobsList()).toBeNull();
    const bobSocket = await connectAs(bob.accessToken);
    try {
      const seen = nextEvent(bobSocket, 'user:updated', (p) => p.user.id === alice.user.id);
      const done = await uploadAvatar(alice, await image(900, 500));
      expect(done.status).toBe(200);
      const url: string = done.body.user.avatarUrl;
      expect(url).toMatch(new RegExp(`^/api/file/avatars/${alice.user.id}/[0-9a-f-]{36}\\.webp$`));
      expect((await seen).user).toEqual(done.body.user);
      const members = await api('GET', `/api/db/users?q=${alice.user.username}`, { token: bob.accessToken });
      expect(members.body.users[0].avatarUrl).toBe(url);
      expect(await alicesAvatarInBobsList()).toBe(url);

      // <img> sends no token: the URL itself is what is needed, and it never changes.
      const res = await fetch(`${stack().baseUrl}${url}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/webp');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toMatch(/^nosniff/);
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 256]);

      // A new avatar gets a new URL; the old one is gone.
      const again = await uploadAvatar(alice, await image(40, 60));
      expect(again.body.user.avatarUrl).not.toBe(url);
      expect((await fetch(`${stack().baseUrl}${url}`)).status).toBe(404);
      const small = await sharp(Buffer.from(await (await fetch(`${stack().baseUrl}${again.body.user.avatarUrl}`)).arrayBuffer())).metadata();
      expect([small.width, small.height]).toEqual([256, 256]);
    } finally {
      bobSocket.disconnect();
    }
  });

  it('refuses what is not an image, too large, or not the caller’s upload, and changes nothing', async () => {
    const [alice, mallory] = await Promise.all([registerUser(), registerUser()]);
    for (const body of [{ size: 10, contentType: 'image/svg+xml' }, { size: 10, contentType: 'text/html' }, { size: 0, contentType: 'image/png' }, { size: 10 }, { size: 10, contentType: 'image/png', name: 'x' }]) {
      const res = await api('POST', `${F}/avatar`, { token: alice.accessToken, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect((await api('POST', `${F}/avatar`, { token: alice.accessToken, body: { size: 50 * 1024 * 1024, contentType: 'image/png' } })).status).toBe(413);
    expect((await api('POST', `${F}/avatar`, { body: { size: 10, contentType: 'image/png' } })).status).toBe(401);

    // Bytes that are not an image: 400, and the avatar stays unset.
    const junk = Buffer.from('<script>alert(1)</script>');
    const bad = await uploadAvatar(alice, junk, 'image/png');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');

    // Another user cannot complete Alice's upload (the key is under the caller's id).
    const start = await api('POST', `${F}/avatar`, { token: alice.accessToken, body: { size: 10, contentType: 'image/png' } });
    const bytes = await image(10, 10);
    const ticket = await api('POST', `${F}/avatar`, { token: alice.accessToken, body: { size: bytes.length, contentType: 'image/jpeg' } });
    await put(ticket.body, bytes);
    expect((await api('POST', `${F}/avatar/${ticket.body.uploadId}/complete`, { token: mallory.accessToken })).status).toBe(404);
    expect((await api('POST', `${F}/avatar/${start.body.uploadId}/complete`, { token: alice.accessToken })).status).toBe(404);
    expect((await api('POST', `${F}/avatar/not-a-uuid/complete`, { token: alice.accessToken })).status).toBe(404);
    expect((await api('GET', '/api/auth/me', { token: alice.accessToken })).body.user.avatarUrl).toBeNull();
    expect((await api('GET', '/api/auth/me', { token: mallory.accessToken })).body.user.avatarUrl).toBeNull();

    // Made-up avatar paths are 404, not a listing or another object.
    for (const p of [`/avatars/${alice.user.id}/x.webp`, '/avatars/../uploads/x.webp', `/avatars/${alice.user.id}/${ticket.body.uploadId}.webp`]) {
      expect((await fetch(`${stack().baseUrl}${F}${p}`)).status, p).toBe(404);
    }
  });
});

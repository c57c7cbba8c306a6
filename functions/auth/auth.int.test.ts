import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { api, registerUser, uniqueName } from '../../test/api.ts';

const A = '/api/auth';
const cookieOf = (h: Headers) => h.getSetCookie().find((c) => c.startsWith('refresh_token='))!;
const cookieValue = (h: Headers) => cookieOf(h).split(';')[0]!.split('=')[1]!;
const hintOf = (h: Headers) => h.getSetCookie().find((c) => c.startsWith('chat_session='));

describe('POST /register', () => {
  it('creates the user and signs in (201, tokens, httpOnly cookie scoped to /api/auth)', async () => {
    const name = uniqueName('Reg');
    const res = await api('POST', `${A}/register`, { body: { username: name, password: 'password123', displayName: 'Reggie' } });
    expect(res.status).toBe(201);
    expect(res.body.user).toEqual({ id: expect.any(String), username: name.toLowerCase(), displayName: 'Reggie', avatarUrl: null });
    expect(res.body).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String), expiresIn: expect.any(Number) });
    expect(res.body.expiresIn).toBeLessThanOrEqual(900);
    expect(JSON.stringify(res.body)).not.toMatch(/hash|password/i);
    const cookie = cookieOf(res.headers);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/api\/auth/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookieValue(res.headers)).toBe(res.body.refreshToken);
    // The hint the web app reads before calling /refresh: script-readable, site-wide, no secret.
    const hint = hintOf(res.headers)!;
    expect(hint).toMatch(/^chat_session=1;/);
    expect(hint).not.toMatch(/HttpOnly/i);
    expect(hint).toMatch(/Path=\/;/);
    expect(hint).toMatch(/SameSite=Strict/i);
    expect(hint).not.toContain(res.body.refreshToken);
  });

  it('defaults displayName to the username', async () => {
    const res = await api('POST', `${A}/register`, { body: { username: uniqueName(), password: 'password123' } });
    expect(res.body.user.displayName).toBe(res.body.user.username);
  });

  it('answers 409 conflict for a taken username, whatever its case', async () => {
    const name = uniqueName('dup');
    await registerUser(name);
    const res = await api('POST', `${A}/register`, { body: { username: name.toUpperCase(), password: 'password123' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
  });

  it('ignores a client-sent X-Forwarded-Proto (the ingress sets its own), so no Secure cookie over http', async () => {
    const res = await api('POST', `${A}/register`, { body: { username: uniqueName(), password: 'password123' }, headers: { 'x-forwarded-proto': 'https' } });
    // nginx overwrites X-Forwarded-Proto with its own scheme, so through the ingress this stays http
    expect(cookieOf(res.headers)).not.toMatch(/Secure/);
  });
});

describe('access tokens', () => {
  it('are EdDSA JWTs with kid, sub, iss, aud, iat and exp ≤ 15 min that verify against the JWKS', async () => {
    const s = await registerUser();
    const header = decodeProtectedHeader(s.accessToken);
    expect(header.alg).toBe('EdDSA');
    expect(header.kid).toEqual(expect.any(String));
    const claims = decodeJwt(s.accessToken);
    expect(claims.sub).toBe(s.user.id);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(900);
    const jwks = await api('GET', `${A}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    for (const k of jwks.body.keys) expect(k).not.toHaveProperty('d');
    const { payload } = await jwtVerify(s.accessToken, createLocalJWKSet(jwks.body), { issuer: claims.iss!, audience: claims.aud as string });
    expect(payload.sub).toBe(s.user.id);
  });
});

describe('POST /login', () => {
  it('signs in case-insensitively with the same shape as register', async () => {
    const name = uniqueName('Log');
    const s = await registerUser(name);
    const res = await api('POST', `${A}/login`, { body: { username: name.toUpperCase(), password: s.password } });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual(s.user);
    expect(res.body.refreshToken).not.toBe(s.refreshToken);
    expect(cookieValue(res.headers)).toBe(res.body.refreshToken);
  });

  it('answers the same 401 for a wrong password and an unknown user', async () => {
    const s = await registerUser();
    const wrong = await api('POST', `${A}/login`, { body: { username: s.user.username, password: 'not the password' } });
    const unknown = await api('POST', `${A}/login`, { body: { username: uniqueName('ghost'), password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe('unauthorized');
  });

  it('answers 429 with Retry-After after repeated failures, even with the right password', async () => {
    const s = await registerUser();
    for (let i = 0; i < 5; i++) {
      const r = await api('POST', `${A}/login`, { body: { username: s.user.username, password: 'wrong password' } });
      expect(r.status).toBe(401);
    }
    const blocked = await api('POST', `${A}/login`, { body: { username: s.user.username, password: s.password } });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('POST /refresh', () => {
  it('rotates: the new pair works and the old refresh token is spent', async () => {
    const s = await registerUser();
    const r1 = await api('POST', `${A}/refresh`, { body: { refreshToken: s.refreshToken } });
    expect(r1.status).toBe(200);
    expect(r1.body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), expiresIn: expect.any(Number) });
    expect(r1.body.refreshToken).not.toBe(s.refreshToken);
    expect((await api('GET', `${A}/me`, { token: r1.body.accessToken })).status).toBe(200);
  });

  it('a replayed spent token is 401 and revokes every token descended from the login', async () => {
    const s = await registerUser();
    const r1 = await api('POST', `${A}/refresh`, { body: { refreshToken: s.refreshToken } });
    const replay = await api('POST', `${A}/refresh`, { body: { refreshToken: s.refreshToken } });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('unauthorized');
    const descendant = await api('POST', `${A}/refresh`, { body: { refreshToken: r1.body.refreshToken } });
    expect(descendant.status).toBe(401);
    // another login of the same user is a different family and keeps working
    const other = await api('POST', `${A}/login`, { body: { username: s.user.username, password: s.password } });
    expect((await api('POST', `${A}/refresh`, { body: { refreshToken: other.body.refreshToken } })).status).toBe(200);
  });

  it('takes the token from the cookie when the body has none, and sets the next one', async () => {
    const s = await registerUser();
    const res = await api('POST', `${A}/refresh`, { headers: { cookie: `refresh_token=${s.refreshToken}` } });
    expect(res.status).toBe(200);
    expect(cookieValue(res.headers)).toBe(res.body.refreshToken);
    expect(hintOf(res.headers)).toMatch(/^chat_session=1;/);
  });

  it('is 401 for an unknown or missing token, and clears the session hint', async () => {
    const bad = await api('POST', `${A}/refresh`, { body: { refreshToken: 'nope' } });
    expect(bad.status).toBe(401);
    expect(hintOf(bad.headers)).toMatch(/Max-Age=0/);
    expect((await api('POST', `${A}/refresh`, { body: {} })).status).toBe(401);
  });
});

describe('POST /logout', () => {
  it('answers 204; that token and its descendants stop working', async () => {
    const s = await registerUser();
    const r1 = await api('POST', `${A}/refresh`, { body: { refreshToken: s.refreshToken } });
    const out = await api('POST', `${A}/logout`, { body: { refreshToken: r1.body.refreshToken } });
    expect(out.status).toBe(204);
    expect(cookieOf(out.headers)).toMatch(/Max-Age=0/);
    expect(hintOf(out.headers)).toMatch(/^chat_session=;.*Max-Age=0/);
    expect((await api('POST', `${A}/refresh`, { body: { refreshToken: r1.body.refreshToken } })).status).toBe(401);
  });

  it('takes the token from the cookie', async () => {
    const s = await registerUser();
    expect((await api('POST', `${A}/logout`, { headers: { cookie: `refresh_token=${s.refreshToken}` } })).status).toBe(204);
    expect((await api('POST', `${A}/refresh`, { body: { refreshToken: s.refreshToken } })).status).toBe(401);
  });
});

describe('GET /me', () => {
  it('returns the user for a valid bearer token', async () => {
    const s = await registerUser();
    const res = await api('GET', `${A}/me`, { token: s.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: s.user });
  });

  it.each([
    ['no token', undefined],
    ['garbage', 'abc.def.ghi'],
    ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`],
  ])('is 401 with %s', async (_n, token) => {
    const res = await api('GET', `${A}/me`, { token });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('is 401 for a tampered token', async () => {
    const s = await registerUser();
    const [h, p, sig] = s.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${sig}`;
    expect((await api('GET', `${A}/me`, { token: forged })).status).toBe(401);
  });
});

describe('bad input changes nothing and gets the contract error', () => {
  it.each([
    ['an operator object', { username: { $gt: '' }, password: 'password123' }],
    ['a number', { username: 12345, password: 'password123' }],
    ['an unknown field', { username: uniqueName(), password: 'password123', isAdmin: true }],
    ['a short password', { username: uniqueName(), password: 'short' }],
    ['a bad username', { username: 'no spaces!', password: 'password123' }],
  ])('register with %s → 400', async (_n, body) => {
    const res = await api('POST', `${A}/register`, { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message).toEqual(expect.any(String));
  });

  it('login with an operator object → 400, not a match-anything query', async () => {
    await registerUser();
    const res = await api('POST', `${A}/login`, { body: { username: { $ne: null }, password: { $ne: null } } });
    expect(res.status).toBe(400);
  });

  it('malformed JSON → 400', async () => {
    const res = await api('POST', `${A}/login`, { raw: '{"username": "a",', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });

  it('a non-JSON content type → 415', async () => {
    const res = await api('POST', `${A}/login`, { raw: 'username=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('a body over 1 MiB → 413, and the user is not created', async () => {
    const name = uniqueName();
    const res = await api('POST', `${A}/register`, { body: { username: name, password: 'password123', displayName: 'x'.repeat(1024 * 1024 + 10) } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect((await api('POST', `${A}/login`, { body: { username: name, password: 'password123' } })).status).toBe(401);
  });

  it('an unknown route → 404 in the contract shape, without stack traces', async () => {
    const res = await api('GET', `${A}/nope`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });
});

describe('the function behind the ingress', () => {
  it('serves the same routes at /function/auth/… (the OpenFaaS URL scheme)', async () => {
    const s = await registerUser();
    const res = await api('GET', '/function/auth/me', { token: s.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(s.user.id);
  });

  it('answers /healthz and /readyz', async () => {
    expect((await api('GET', `${A}/healthz`)).body).toEqual({ status: 'ok' });
    expect((await api('GET', `${A}/readyz`)).body).toEqual({ status: 'ready' });
  });

  it('publishes an OpenAPI 3 document generated from the validation schemas', async () => {
    const res = await api('GET', `${A}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    const register = res.body.paths['/register'].post;
    const schema = register.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['username', 'password']));
    expect(schema.properties.password.minLength).toBe(8);
    expect(res.body.paths['/me'].get.security).toEqual([{ bearer: [] }]);
  });
});

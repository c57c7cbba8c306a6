import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { TokenVerifier } from '@chat/shared/auth/verifier';
import { AppError } from '@chat/shared/errors';
import { clientAddress, readJson, requestBearerToken, requireUser, type AppEnv } from '@chat/shared/http/app';
import { buildOpenApi, type RouteDoc } from '@chat/shared/http/openapi';
import { changePasswordRequest, loginRequest, refreshRequest, registerRequest, updateMeRequest } from '@chat/shared/models/validation';
import type { AuthService } from './auth.service.ts';
import type { AuthConfig } from './config.ts';
import type { SigningKeys } from './keys.ts';

export const REFRESH_COOKIE = 'refresh_token';
/**
 * A non-secret companion of the refresh cookie, readable by the web app (not httpOnly, path /),
 * that only says "a refresh cookie was set". The app calls /refresh on load only when it is
 * there, so a signed-out visit makes no request that must fail with 401.
 */
export const SESSION_HINT_COOKIE = 'chat_session';
/** The contract scopes the cookie to the public auth path, whatever path reached the function. */
const COOKIE_PATH = '/api/auth';

export const openApiInfo = { title: 'Chat auth function', version: '1.0.0', serverUrl: '/api/auth' };

/** The routes' documentation: served as /openapi.json and written to docs/api/ by `npm run docs`. */
export const docs: RouteDoc[] = [
  { method: 'post', path: '/register', summary: 'Create an account and sign in', body: registerRequest, responses: { 201: 'Signed in', 400: 'Invalid input', 409: 'Username taken', 429: 'Too many attempts' } },
  { method: 'post', path: '/login', summary: 'Sign in', body: loginRequest, responses: { 200: 'Signed in', 400: 'Invalid input', 401: 'Wrong credentials', 429: 'Too many failures' } },
  { method: 'post', path: '/refresh', summary: 'Rotate the refresh token (body or cookie)', body: refreshRequest, responses: { 200: 'New tokens', 401: 'Invalid, spent or revoked token' } },
  { method: 'post', path: '/logout', summary: 'Revoke the refresh token and its family (body or cookie)', body: refreshRequest, responses: { 204: 'Signed out' } },
  { method: 'get', path: '/me', summary: 'The signed-in user', auth: true, responses: { 200: 'The user', 401: 'Not signed in' } },
  { method: 'patch', path: '/me', summary: 'Change the display name; others get user:updated', auth: true, body: updateMeRequest, responses: { 200: 'The user', 400: 'Invalid input', 401: 'Not signed in' } },
  { method: 'post', path: '/password', summary: 'Change the password and sign out every other session (the refresh token in the cookie or body is kept)', auth: true, body: changePasswordRequest, responses: { 204: 'Changed', 400: 'Invalid input', 401: 'Not signed in, or a wrong current password', 429: 'Too many wrong passwords' } },
  { method: 'get', path: '/.well-known/jwks.json', summary: 'Public keys that verify access tokens', responses: { 200: 'JWKS' } },
];

export function authRoutes(app: Hono<AppEnv>, deps: { service: AuthService; keys: SigningKeys; verifier: TokenVerifier; config: AuthConfig }) {
  const { service, keys, verifier, config } = deps;
  const maxAge = config.REFRESH_TOKEN_TTL_DAYS * 86_400;

  const secure = (c: Context) =>
    config.COOKIE_SECURE === 'auto' ? c.req.header('x-forwarded-proto') === 'https' || new URL(c.req.url).protocol === 'https:' : config.COOKIE_SECURE === 'true';
  const setRefreshCookie = (c: Context, token: string) => {
    setCookie(c, REFRESH_COOKIE, token, { httpOnly: true, sameSite: 'Strict', secure: secure(c), path: COOKIE_PATH, maxAge });
    setCookie(c, SESSION_HINT_COOKIE, '1', { sameSite: 'Strict', secure: secure(c), path: '/', maxAge });
  };
  const clearCookies = (c: Context) => {
    deleteCookie(c, REFRESH_COOKIE, { path: COOKIE_PATH, httpOnly: true, sameSite: 'Strict', secure: secure(c) });
    deleteCookie(c, SESSION_HINT_COOKIE, { path: '/', sameSite: 'Strict', secure: secure(c) });
  };
  const bodyOrCookieToken = async (c: Context) => (await readJson(c, refreshRequest, { optional: true })).refreshToken ?? getCookie(c, REFRESH_COOKIE);

  app.post('/register', async (c) => {
    const session = await service.register(await readJson(c, registerRequest), clientAddress(c));
    setRefreshCookie(c, session.refreshToken);
    return c.json(session, 201);
  });

  app.post('/login', async (c) => {
    const session = await service.login(await readJson(c, loginRequest), clientAddress(c));
    setRefreshCookie(c, session.refreshToken);
    return c.json(session, 200);
  });

  app.post('/refresh', async (c) => {
    let tokens;
    try {
      tokens = await service.refresh(await bodyOrCookieToken(c));
    } catch (err) {
      // A spent or revoked token will not work again: drop the hint so the next visit does not try.
      if (err instanceof AppError && err.status === 401) clearCookies(c);
      throw err;
    }
    setRefreshCookie(c, tokens.refreshToken);
    return c.json(tokens, 200);
  });

  app.post('/logout', async (c) => {
    await service.logout(await bodyOrCookieToken(c));
    clearCookies(c);
    return c.body(null, 204);
  });

  // The same check as requireUser, as one handler that answers without an await when this
  // process has verified the token (until its exp) and read the profile in the last few
  // seconds, as it has for a client calling again with its token. Hono then calls it without a
  // middleware chain and the Node adapter writes its response in the same tick: the promise
  // per layer was most of what /me cost beyond a bare Hono route.
  app.get('/me', (c) => {
    const token = requestBearerToken(c);
    const claims = verifier.cached(token);
    const user = claims && service.cachedProfile(claims.userId);
    if (user) return c.json({ user });
    return (async () => c.json({ user: await service.me((await verifier.verify(token)).userId) }))();
  });

  const auth = requireUser(verifier);
  app.patch('/me', auth, async (c) => c.json({ user: await service.updateProfile(c.var.userId, await readJson(c, updateMeRequest)) }));

  app.post('/password', auth, async (c) => {
    const input = await readJson(c, changePasswordRequest);
    await service.changePassword(c.var.userId, input, getCookie(c, REFRESH_COOKIE));
    return c.body(null, 204);
  });

  app.get('/.well-known/jwks.json', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(keys.jwks);
  });

  const openapi = buildOpenApi(openApiInfo, docs);
  app.get('/openapi.json', (c) => c.json(openapi));
}

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createVerifier } from '@chat/shared/auth/verifier';
import { createApp } from '@chat/shared/http/app';
import { createLogger } from '@chat/shared/log';
import type { UsersRepository } from '@chat/shared/repositories/users';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthService } from './auth.service.ts';
import type { AuthConfig } from './config.ts';
import { loadSigningKeys } from './keys.ts';
import type { RefreshTokensRepository } from './refresh-tokens.repository.ts';
import { authRoutes } from './routes.ts';

const ISS = 'chat-auth';
const AUD = 'chat';
const USER = { id: '665f1c2b9a7e4d0012345678', username: 'alice', displayName: 'Alice', avatarUrl: null };

async function setup() {
  const secret = (): string => {
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    return JSON.stringify({ keys: [{ ...jwk, kid: randomUUID(), alg: 'EdDSA', use: 'sig' }] });
  };
  const keys = await loadSigningKeys(secret());
  const otherKeys = await loadSigningKeys(secret());
  const config = { JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, ACCESS_TOKEN_TTL_SECONDS: 900, REFRESH_TOKEN_TTL_DAYS: 30, COOKIE_SECURE: 'false' } as AuthConfig;
  const findById = vi.fn(async (id: string) => (id === USER.id ? USER : null));
  const service = new AuthService({
    config,
    users: { findById } as unknown as UsersRepository,
    tokens: {} as RefreshTokensRepository,
    keys,
    redis: {} as never,
    announce: () => {},
  });
  const verifier = createVerifier({ jwks: keys.jwks, issuer: ISS, audience: AUD });
  const app = createApp({ log: createLogger('test', 'error'), ready: async () => undefined });
  authRoutes(app, { service, keys, verifier, config });
  const sign = (sub: string, k = keys) => k.sign({ sub, issuer: ISS, audience: AUD, ttlSeconds: 60 });
  const me = (token?: string) => app.request('/me', token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { sign, me, findById, otherKeys };
}

const unauthorized = { error: { code: 'unauthorized', message: expect.any(String) } };

describe('GET /me', () => {
  afterEach(() => vi.useRealTimers());

  it('answers the signed-in user, the second time from the token and profile caches', async () => {
    const { sign, me, findById } = await setup();
    const token = await sign(USER.id);
    for (let i = 0; i < 3; i++) {
      const res = await me(token);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ user: USER });
    }
    expect(findById).toHaveBeenCalledTimes(1);
  });

  it('refuses a missing, malformed or foreign token with the contract error', async () => {
    const { sign, me, otherKeys } = await setup();
    for (const token of [undefined, 'not-a-jwt', await sign(USER.id, otherKeys)]) {
      const res = await me(token);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(unauthorized);
    }
  });

  it('refuses a remembered token once it has expired, even with its profile still cached', async () => {
    const { sign, me } = await setup();
    const token = await sign(USER.id);
    expect((await me(token)).status).toBe(200);
    vi.useFakeTimers({ now: Date.now() + 61_000, toFake: ['Date'] });
    const res = await me(token);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(unauthorized);
  });

  it('refuses the token of an account that no longer exists', async () => {
    const { sign, me } = await setup();
    const res = await me(await sign('665f1c2b9a7e4d00deadbeef'));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(unauthorized);
  });
});

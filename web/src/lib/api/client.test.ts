import { describe, expect, it } from 'vitest';
import { ApiClient } from './client.ts';
import { ApiError } from './errors.ts';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('ApiClient', () => {
  it('renders the contract error shape as ApiError with code, status and Retry-After', async () => {
    const api = new ApiClient({ token: () => 't', renew: async () => null }, '/api', async () =>
      json(429, { error: { code: 'rate_limited', message: 'Slow down.' } }, { 'retry-after': '7' }),
    );
    const err = await api.get('/db/users').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'rate_limited', status: 429, message: 'Slow down.', retryAfter: 7 });
  });

  it('sends the bearer token, renews once on 401 and retries', async () => {
    const seen: (string | null)[] = [];
    let token = 'old';
    const api = new ApiClient(
      { token: () => token, renew: async () => (token = 'new') },
      '/api',
      async (_url, init) => {
        const auth = new Headers(init?.headers).get('authorization');
        seen.push(auth);
        return auth === 'Bearer new' ? json(200, { ok: 1 }) : json(401, { error: { code: 'unauthorized', message: 'expired' } });
      },
    );
    await expect(api.get('/auth/me')).resolves.toEqual({ ok: 1 });
    expect(seen).toEqual(['Bearer old', 'Bearer new']);
  });

  it('maps network failures and non-JSON errors', async () => {
    const down = new ApiClient({ token: () => null, renew: async () => null }, '/api', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(down.get('/x')).rejects.toMatchObject({ code: 'network', status: 0 });
    const html = new ApiClient({ token: () => null, renew: async () => null }, '/api', async () => new Response('<html>bad gateway</html>', { status: 502 }));
    await expect(html.get('/x')).rejects.toMatchObject({ code: 'internal', status: 502 });
  });

  it('builds query strings and returns undefined for 204', async () => {
    const urls: string[] = [];
    const api = new ApiClient({ token: () => 't', renew: async () => null }, '/api', async (url) => {
      urls.push(String(url));
      return new Response(null, { status: 204 });
    });
    await expect(api.get('/db/conversations/c1/messages', { after: 'm1', limit: 100, before: undefined })).resolves.toBeUndefined();
    expect(urls).toEqual(['/api/db/conversations/c1/messages?after=m1&limit=100']);
  });
});

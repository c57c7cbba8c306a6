import { describe, expect, it } from 'vitest';
import { stack } from '../test/stack.ts';
import { APP_SECURITY_HEADERS, CONTENT_SECURITY_POLICY, SVELTEKIT_ANNOUNCER_STYLE_HASH } from './security-headers.ts';

/** The headers the running ingress sends with the web app, read over HTTP. */
describe('the ingress serves the app with a strict CSP, Referrer-Policy and Permissions-Policy', () => {
  const get = (p: string) => fetch(`${stack().baseUrl}${p}`);

  const expectAppHeaders = (res: Response, where: string) => {
    for (const [name, value] of Object.entries(APP_SECURITY_HEADERS)) expect(res.headers.get(name), `${name} on ${where}`).toBe(value);
  };

  it('on the page, client-side routes, and the immutable assets', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    const html = await index.text();
    expectAppHeaders(index, '/');
    for (const p of ['/index.html', '/c/some-conversation', '/login']) {
      const res = await get(p);
      expect(res.status, p).toBe(200);
      expectAppHeaders(res, p);
    }
    const script = /<script src="([^"]+)"><\/script>/.exec(html)?.[1];
    expect(script, 'the bootstrap is an external script').toMatch(/^\/_app\/immutable\/bootstrap\.[0-9a-f]+\.js$/);
    const asset = await get(script!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expectAppHeaders(asset, script!);
  });

  it('lets no inline script or style run, and connects only to its own origin', async () => {
    const policy = Object.fromEntries(
      CONTENT_SECURITY_POLICY.split(';').map((d) => {
        const [name, ...sources] = d.trim().split(/\s+/);
        return [name!, sources];
      }),
    );
    expect(policy['script-src']).toEqual(["'self'"]);
    // Style attributes: only SvelteKit's announcer, by hash (security-headers.ts).
    expect(policy['style-src']).toEqual(["'self'", "'unsafe-hashes'", SVELTEKIT_ANNOUNCER_STYLE_HASH]);
    expect(policy['connect-src']).toEqual(["'self'"]);
    expect(policy['object-src']).toEqual(["'none'"]);
    expect(policy['frame-ancestors']).toEqual(["'none'"]);
    expect(policy['base-uri']).toEqual(["'self'"]);
    expect(policy['form-action']).toEqual(["'self'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/'unsafe-inline'|'unsafe-eval'|'strict-dynamic'|\*/);

    // The page the browser gets has nothing inline the policy would block.
    const html = await (await get('/')).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });

  it('keeps stored files on their own sandboxing policy', async () => {
    const res = await get('/chat-files/no-such-object');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(res.headers.get('x-content-type-options')).toMatch(/^nosniff\b/);
  });
});

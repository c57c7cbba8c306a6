import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderNginxConf } from './nginx.conf.ts';
import { CONTENT_SECURITY_POLICY, nginxSecurityHeaders, SVELTEKIT_ANNOUNCER_STYLE_HASH } from './security-headers.ts';

describe('the app security headers', () => {
  it('allow the one inline style SvelteKit renders (its route announcer), by hash', () => {
    // The installed SvelteKit's root component template, where the announcer's style lives.
    const require = createRequire(path.resolve('web/package.json'));
    const kit = path.dirname(require.resolve('@sveltejs/kit/package.json'));
    const source = readFileSync(path.join(kit, 'src/core/sync/write_root.js'), 'utf8');
    const style = /id="svelte-announcer"[^>]*style="([^"]+)"/.exec(source)?.[1];
    expect(style, 'SvelteKit no longer renders an announcer with a style attribute: drop the hash').toBeTruthy();
    const hash = `'sha256-${createHash('sha256').update(style!).digest('base64')}'`;
    expect(SVELTEKIT_ANNOUNCER_STYLE_HASH, 'SvelteKit changed its announcer style: update SVELTEKIT_ANNOUNCER_STYLE_HASH (and k8s/base/chat/web.yaml)').toBe(hash);
    const styleSrc = CONTENT_SECURITY_POLICY.split('; ').find((d) => d.startsWith('style-src '));
    expect(styleSrc).toBe(`style-src 'self' 'unsafe-hashes' ${hash}`);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
  });

  it('are sent in every location of the local nginx that adds headers of its own', () => {
    const conf = renderNginxConf({ port: 8080, runDir: '/tmp/run', webRoot: '/tmp/web', functions: { auth: 3001 }, gateways: [{ id: 'a', port: 4001 }], storage: { bucket: 'chat-files', port: 9000 }, uploadMaxMiB: 25 });
    const lines = nginxSecurityHeaders('').split('\n');
    const server = conf.slice(conf.indexOf('  server {'));
    expect(server.slice(0, server.indexOf('location'))).toContain(lines[0]!.trim());
    for (const loc of ['location /_app/immutable/ {', 'location = /index.html {']) {
      const block = server.slice(server.indexOf(loc), server.indexOf('}', server.indexOf(loc)));
      for (const l of lines) expect(block, loc).toContain(l.trim());
    }
    // Stored files keep their own sandboxing policy rather than the app's.
    const storage = server.slice(server.indexOf('location /chat-files/ {'));
    expect(storage.slice(0, storage.indexOf('}'))).toContain(`Content-Security-Policy "default-src 'none'; sandbox"`);
  });
});

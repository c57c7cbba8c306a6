import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatewaySource, parseStackFile, parseTopics } from './subscriptions.ts';

describe('parseTopics', () => {
  it('splits, trims and de-duplicates a topic annotation', () => {
    expect(parseTopics(' message.created, message.updated,,message.created ')).toEqual(['message.created', 'message.updated']);
  });
  it('ignores a missing annotation and refuses nonsense keys', () => {
    expect(parseTopics(undefined)).toEqual([]);
    expect(parseTopics(42)).toEqual([]);
    expect(() => parseTopics('message created')).toThrow(/invalid routing key/);
  });
});

describe('parseStackFile', () => {
  it('reads the repository stack.yml: db receives the message events, auth nothing', () => {
    const subs = parseStackFile(readFileSync(path.resolve(import.meta.dirname, '../../stack.yml'), 'utf8'));
    expect(subs).toContainEqual({ fn: 'db', topics: ['message.created', 'message.updated', 'message.deleted', 'message.read'] });
    expect(subs.find((s) => s.fn === 'auth')).toBeUndefined();
  });
  it('handles functions without annotations and empty files', () => {
    const yml = `functions:\n  a:\n    lang: x\n  b:\n    annotations:\n      topic: "x.y"\n  c:\n`;
    expect(parseStackFile(yml)).toEqual([{ fn: 'b', topics: ['x.y'] }]);
    expect(parseStackFile('')).toEqual([]);
  });
});

describe('gatewaySource', () => {
  it('reads annotations.topic from GET /system/functions, with basic auth', async () => {
    let seen: { url: string; auth: string | null } | undefined;
    const fakeFetch = (async (url: URL, init: RequestInit) => {
      seen = { url: String(url), auth: new Headers(init.headers).get('authorization') };
      return Response.json([
        { name: 'db', annotations: { topic: 'message.created,message.deleted' } },
        { name: 'auth', annotations: null },
        { name: 'notification', annotations: { topic: 'message.created' } },
      ]);
    }) as unknown as typeof fetch;
    const src = gatewaySource({ gatewayUrl: 'http://gw:8080', basicAuth: { user: 'admin', password: 'pw' }, fetch: fakeFetch });
    expect(await src.list()).toEqual([
      { fn: 'db', topics: ['message.created', 'message.deleted'] },
      { fn: 'notification', topics: ['message.created'] },
    ]);
    expect(seen).toEqual({ url: 'http://gw:8080/system/functions', auth: `Basic ${Buffer.from('admin:pw').toString('base64')}` });
  });
  it('fails loudly when the gateway refuses', async () => {
    const src = gatewaySource({ gatewayUrl: 'http://gw:8080', fetch: (async () => new Response('no', { status: 401 })) as unknown as typeof fetch });
    await expect(src.list()).rejects.toThrow(/401/);
  });
});

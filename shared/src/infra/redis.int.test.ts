import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { stack } from '../../../test/stack.ts';
import { adapterClients } from './redis.ts';

const clients: Array<ReturnType<typeof adapterClients>> = [];
afterAll(() => Promise.all(clients.flatMap(({ pub, sub }) => [pub.quit(), sub.quit()])));

describe('the adapter clients (real Redis)', () => {
  it('a subscribe sent while the subscriber sets its connection up: it stays connected and gets what is published', async () => {
    // Listeners go on before the connection can open (it opens on a later turn of the event loop).
    const { pub, sub } = adapterClients(stack().env.REDIS_URL!);
    clients.push({ pub, sub });
    const channel = `${stack().env.REDIS_PREFIX}adapter-test#${Date.now()}`;
    const errors: Error[] = [];
    let reconnects = 0;
    sub.on('error', (e: Error) => errors.push(e));
    sub.on('reconnecting', () => reconnects++);
    // 'connect' comes before the connection's setup commands are answered: a room joined then
    // sends its subscribe at once (as a gateway does while sockets reconnect).
    sub.once('connect', () => void sub.ssubscribe(channel));
    await once(sub, 'ready');
    const got = once(sub, 'smessage');
    await pub.spublish(channel, 'hello');
    expect((await got).map(String)).toEqual([channel, 'hello']);
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(reconnects).toBe(0);
  });
});

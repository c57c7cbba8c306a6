import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { freePort, httpOk, run } from '../../scripts/stack/exec.ts';
import { Proc } from '../../scripts/stack/procs.ts';

/**
 * The fan-out peer: two Centrifugo v6 nodes on the Redis engine (a private key prefix, so they
 * share nothing with the stack), clients authenticated by HMAC connection JWTs, and publishing
 * allowed to subscribers of a channel, so a client publishes straight into its group's channel.
 */
export interface CentrifugoPair {
  urls: string[];
  procs: Proc[];
  token(userId: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startCentrifugo(opts: { bin: string; dir: string; redisUrl: string; prefix: string; out: { stream: NodeJS.WritableStream; color: boolean } }): Promise<CentrifugoPair> {
  const secret = randomBytes(32).toString('hex');
  mkdirSync(opts.dir, { recursive: true });
  const ports = [await freePort(), await freePort()];
  const procs: Proc[] = [];
  for (const [i, port] of ports.entries()) {
    const config = {
      http_server: { address: '127.0.0.1', port },
      log: { level: 'error' },
      engine: { type: 'redis', redis: { address: [opts.redisUrl], prefix: opts.prefix } },
      client: { token: { hmac_secret_key: secret }, allowed_origins: ['*'] },
      channel: { without_namespace: { allow_subscribe_for_client: true, allow_publish_for_subscriber: true } },
      health: { enabled: true },
      usage_stats: { disabled: true },
      node: { name: `bench-cf${i + 1}` },
    };
    const file = path.join(opts.dir, `centrifugo-${i + 1}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    await run(opts.bin, ['checkconfig', '-c', file], { quiet: true });
    const p = new Proc(
      { name: `centrifugo-${i + 1}`, cmd: opts.bin, args: ['-c', file], ready: () => httpOk(`http://127.0.0.1:${port}/health`) },
      { ...opts.out, index: 20 + i },
      false,
    );
    await p.start();
    procs.push(p);
  }
  const key = new TextEncoder().encode(secret);
  return {
    urls: ports.map((p) => `ws://127.0.0.1:${p}/connection/websocket`),
    procs,
    token: (userId) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime('1h').sign(key),
    stop: async () => {
      await Promise.all(procs.map((p) => p.stop()));
    },
  };
}

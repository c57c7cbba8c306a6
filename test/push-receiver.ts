import { createDecipheriv, createECDH, hkdfSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { importJWK, jwtVerify, type JWTPayload } from 'jose';

/**
 * A stand-in push service for tests. It hands out real subscriptions (a P-256 key pair and a
 * 16-byte auth secret, as a browser makes them), and for every push it receives it checks the
 * VAPID signature and decrypts the body the way the browser would (RFC 8291, aes128gcm).
 */
export interface ReceivedPush {
  subscription: string;
  payload: any;
  headers: http.IncomingHttpHeaders;
  vapid: { claims: JWTPayload; publicKey: string };
  at: number;
}

export interface TestSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

interface Behaviour {
  /** Statuses answered in turn; the last one repeats. */
  statuses: number[];
  retryAfter?: string;
  delayMs?: number;
}

interface Keys {
  ecdh: ReturnType<typeof createECDH>;
  auth: Buffer;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** RFC 8291 §3.4 + RFC 8188: the user agent's side of aes128gcm, single record. */
export function decryptPush(body: Buffer, keys: Keys): Buffer {
  const salt = body.subarray(0, 16);
  const idLength = body[20]!;
  const senderPublic = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const receiverPublic = keys.ecdh.getPublicKey();
  const shared = keys.ecdh.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([utf8('WebPush: info\0'), receiverPublic, senderPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, keys.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, utf8('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, utf8('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(-16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, -16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('bad padding delimiter (expected the last-record 0x02)');
  return padded.subarray(0, end);
}

/** Verifies `Authorization: vapid t=<jwt>, k=<key>`: ES256 with k, aud = this origin, exp ≤ 24 h. */
export async function verifyVapid(header: string | undefined, origin: string): Promise<{ claims: JWTPayload; publicKey: string }> {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!m) throw new Error(`no VAPID authorization: ${header}`);
  const raw = Buffer.from(m[2]!, 'base64url');
  const key = await importJWK({ kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') }, 'ES256');
  const { payload } = await jwtVerify(m[1]!, key, { audience: origin, algorithms: ['ES256'] });
  if (!payload.exp || payload.exp > Date.now() / 1000 + 24 * 3600) throw new Error('VAPID exp missing or over 24 h');
  if (!/^(mailto:|https:)/.test(String(payload.sub))) throw new Error('VAPID sub must be mailto: or https:');
  return { claims: payload, publicKey: m[2]! };
}

export class PushReceiver {
  readonly received: ReceivedPush[] = [];
  readonly errors: string[] = [];
  /** Every request, answered or not, per subscription id. */
  readonly hits = new Map<string, number>();
  private readonly keys = new Map<string, Keys>();
  private readonly behaviour = new Map<string, Behaviour>();
  private readonly waiters = new Set<() => void>();
  private server!: http.Server;
  origin = '';

  async listen(origin: string): Promise<void> {
    const u = new URL(origin);
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (e) => reject(new Error(`push receiver cannot listen on ${origin} (PUSH_ALLOWED_ORIGINS): ${e.message}`)));
      this.server.listen(Number(u.port), u.hostname, resolve);
    });
    this.origin = `http://${u.hostname}:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** A fresh browser-like subscription on this receiver. */
  subscription(): TestSubscription {
    const id = randomBytes(8).toString('hex');
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.keys.set(id, { ecdh, auth });
    return { id, endpoint: `${this.origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
  }

  respond(id: string, b: Behaviour): void {
    this.behaviour.set(id, b);
  }

  pushesFor(id: string, where: (p: ReceivedPush) => boolean = () => true): ReceivedPush[] {
    return this.received.filter((p) => p.subscription === id && where(p));
  }

  /** Resolves once `count` pushes for the subscription match `where`. */
  async waitFor(id: string, where: (p: ReceivedPush) => boolean = () => true, count = 1, timeoutMs = 15_000): Promise<ReceivedPush[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.errors.length) throw new Error(this.errors.join('; '));
      const got = this.pushesFor(id, where);
      if (got.length >= count) return got;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} push(es) to ${id}; got ${got.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.add(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const id = /^\/push\/([0-9a-f]+)$/.exec(req.url ?? '')?.[1];
    const keys = id ? this.keys.get(id) : undefined;
    if (!id || !keys || req.method !== 'POST') return void res.writeHead(404).end();
    const n = this.hits.get(id) ?? 0;
    this.hits.set(id, n + 1);
    const b = this.behaviour.get(id) ?? { statuses: [201] };
    const status = b.statuses[Math.min(n, b.statuses.length - 1)]!;
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    if (status === 201) {
      try {
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`content-encoding ${req.headers['content-encoding']}`);
        const vapid = await verifyVapid(req.headers.authorization, this.origin);
        const payload = JSON.parse(decryptPush(Buffer.concat(chunks), keys).toString('utf8'));
        this.received.push({ subscription: id, payload, headers: req.headers, vapid, at: Date.now() });
      } catch (e) {
        this.errors.push(`push to ${id}: ${(e as Error).message}`);
      }
    }
    if (!res.destroyed) res.writeHead(status, b.retryAfter && status !== 201 ? { 'retry-after': b.retryAfter } : {}).end();
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const w of waiting) w();
  }
}

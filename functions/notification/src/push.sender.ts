import webpush from 'web-push';
import type { PushSubscriptionRecord } from '@chat/shared/repositories/notifications';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** Parses the vapid-keys secret: JSON {publicKey, privateKey}, URL-safe base64 (P-256). */
export function parseVapidKeys(secret: string): VapidKeys {
  let v: Partial<VapidKeys>;
  try {
    v = JSON.parse(secret) as Partial<VapidKeys>;
  } catch {
    throw new Error('vapid-keys is not JSON');
  }
  const bytes = (s: unknown) => (typeof s === 'string' && /^[A-Za-z0-9_-]+$/.test(s) ? Buffer.from(s, 'base64url').length : -1);
  if (bytes(v.publicKey) !== 65 || bytes(v.privateKey) !== 32) throw new Error('vapid-keys must hold a P-256 publicKey (65 bytes) and privateKey (32 bytes), base64url');
  return { publicKey: v.publicKey!, privateKey: v.privateKey! };
}

export interface PushSenderOptions {
  vapid: VapidKeys;
  subject: string;
  ttlSeconds: number;
  urgency: 'very-low' | 'low' | 'normal' | 'high';
  timeoutMs: number;
  maxAttempts: number;
  maxRetryDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/** sent: accepted; gone: the subscription no longer exists (404/410); failed: gave up. */
export type PushOutcome = { result: 'sent' | 'gone' | 'failed'; status: number; attempts: number };

const RETRY_BASE_MS = 500;

/**
 * How long to wait before the next attempt, or null to stop: Retry-After (seconds or an HTTP date)
 * when the service sent one, else exponential backoff with jitter. A Retry-After beyond the cap
 * ends the attempts, since retrying sooner would ignore what the service asked.
 */
export function retryDelayMs(retryAfter: string | null, attempt: number, capMs: number, now = Date.now()): number | null {
  if (retryAfter) {
    const seconds = /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) * 1000 : Date.parse(retryAfter) - now;
    if (Number.isFinite(seconds)) return seconds > capMs ? null : Math.max(0, seconds);
  }
  const backoff = RETRY_BASE_MS * 2 ** (attempt - 1);
  return Math.min(capMs, backoff / 2 + Math.random() * (backoff / 2));
}

const retryable = (status: number) => status === 0 || status === 429 || status >= 500;

/**
 * Sends one Web Push: web-push encrypts (aes128gcm, RFC 8291) and signs the VAPID JWT; the request
 * itself goes through fetch, which gives a hard timeout, refuses redirects (an allowed origin
 * cannot bounce us to an internal one) and speaks plain http to a local test receiver.
 */
export class PushSender {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: PushSenderOptions) {
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async send(sub: PushSubscriptionRecord, payload: string): Promise<PushOutcome> {
    let status = 0;
    for (let attempt = 1; ; attempt++) {
      let retryAfter: string | null = null;
      try {
        const req = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: sub.keys }, payload, {
          vapidDetails: { subject: this.o.subject, publicKey: this.o.vapid.publicKey, privateKey: this.o.vapid.privateKey },
          TTL: this.o.ttlSeconds,
          urgency: this.o.urgency,
          contentEncoding: 'aes128gcm',
        });
        const res = await fetch(req.endpoint, {
          method: 'POST',
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
          body: req.body ? new Uint8Array(req.body) : null,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
        await res.body?.cancel().catch(() => undefined);
        status = res.status;
        retryAfter = res.headers.get('retry-after');
      } catch {
        status = 0;
      }
      if (status >= 200 && status < 300) return { result: 'sent', status, attempts: attempt };
      if (status === 404 || status === 410) return { result: 'gone', status, attempts: attempt };
      if (!retryable(status) || attempt >= this.o.maxAttempts) return { result: 'failed', status, attempts: attempt };
      const delay = retryDelayMs(retryAfter, attempt, this.o.maxRetryDelayMs);
      if (delay === null) return { result: 'failed', status, attempts: attempt };
      await this.sleep(delay);
    }
  }
}

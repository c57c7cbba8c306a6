import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseVapidKeys, retryDelayMs } from './push.sender.ts';

describe('retryDelayMs', () => {
  it('follows Retry-After in seconds or as an HTTP date', () => {
    expect(retryDelayMs('3', 1, 10_000)).toBe(3000);
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(retryDelayMs('Tue, 01 Jan 2030 00:00:02 GMT', 1, 10_000, now)).toBe(2000);
    expect(retryDelayMs('Tue, 01 Jan 2029 00:00:00 GMT', 1, 10_000, now)).toBe(0);
  });

  it('stops when Retry-After is beyond the cap rather than retrying early', () => {
    expect(retryDelayMs('3600', 1, 10_000)).toBeNull();
  });

  it('backs off exponentially (with jitter, capped) without a Retry-After', () => {
    for (let i = 0; i < 50; i++) {
      const d1 = retryDelayMs(null, 1, 10_000)!;
      const d3 = retryDelayMs(null, 3, 10_000)!;
      expect(d1).toBeGreaterThanOrEqual(250);
      expect(d1).toBeLessThanOrEqual(500);
      expect(d3).toBeGreaterThanOrEqual(1000);
      expect(d3).toBeLessThanOrEqual(2000);
      expect(retryDelayMs(null, 20, 5000)).toBeLessThanOrEqual(5000);
    }
  });
});

describe('parseVapidKeys', () => {
  it('accepts the generated secret format and refuses junk', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pub = publicKey.export({ format: 'jwk' });
    const raw = Buffer.concat([Buffer.from([4]), Buffer.from(pub.x!, 'base64url'), Buffer.from(pub.y!, 'base64url')]).toString('base64url');
    const secret = JSON.stringify({ publicKey: raw, privateKey: privateKey.export({ format: 'jwk' }).d });
    expect(parseVapidKeys(secret).publicKey).toBe(raw);
    expect(() => parseVapidKeys('nope')).toThrow();
    expect(() => parseVapidKeys(JSON.stringify({ publicKey: 'abc', privateKey: 'def' }))).toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { MIN_DELAY_MS, RENEW_MARGIN_MS, RenewalScheduler, renewalDelay, type Timers } from './renewal.ts';

function fakeTimers() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const id = ++seq;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return {
    timers,
    now: () => now,
    pending,
    /** Advance time, running due timers (and awaiting their promises). */
    async advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const next = [...pending.entries()].sort((a, b) => a[1].at - b[1].at)[0];
        if (!next || next[1].at > until) break;
        pending.delete(next[0]);
        now = next[1].at;
        next[1].fn();
        for (let i = 0; i < 10; i++) await Promise.resolve();
      }
      now = until;
    },
  };
}

describe('renewalDelay', () => {
  it('renews one minute before a 15-minute token expires', () => {
    expect(renewalDelay(900)).toBe(900_000 - RENEW_MARGIN_MS);
  });
  it('renews halfway through a short token', () => {
    expect(renewalDelay(60)).toBe(30_000);
    expect(renewalDelay(100)).toBe(50_000);
  });
  it('never schedules a storm', () => {
    expect(renewalDelay(0)).toBe(1000);
    expect(renewalDelay(4)).toBe(2000);
    expect(renewalDelay(20)).toBe(MIN_DELAY_MS * 2);
  });
});

describe('RenewalScheduler', () => {
  it('renews ahead of each expiry and keeps chaining', async () => {
    const t = fakeTimers();
    const renewedAt: number[] = [];
    const s = new RenewalScheduler(
      async () => {
        renewedAt.push(t.now());
        return 900;
      },
      t.timers,
      t.now,
    );
    s.schedule(900);
    await t.advance(839_999);
    expect(renewedAt).toEqual([]);
    await t.advance(1);
    expect(renewedAt).toEqual([840_000]);
    await t.advance(840_000);
    expect(renewedAt).toEqual([840_000, 1_680_000]);
    expect(s.scheduled).toBe(true);
  });

  it('stops when the session is gone and retries with backoff on network errors', async () => {
    const t = fakeTimers();
    const results: (number | null | Error)[] = [new Error('offline'), new Error('offline'), null];
    let calls = 0;
    const s = new RenewalScheduler(
      async () => {
        calls++;
        const r = results.shift()!;
        if (r instanceof Error) throw r;
        return r;
      },
      t.timers,
      t.now,
    );
    s.schedule(300);
    await t.advance(240_000);
    expect(calls).toBe(1);
    await t.advance(2_000);
    expect(calls).toBe(2);
    await t.advance(4_000);
    expect(calls).toBe(3); // returned null: signed out
    expect(s.scheduled).toBe(false);
  });

  it('a fresh token (e.g. after login) replaces the pending renewal', async () => {
    const t = fakeTimers();
    let calls = 0;
    const s = new RenewalScheduler(async () => (calls++, 900), t.timers, t.now);
    s.schedule(900);
    await t.advance(800_000);
    s.schedule(900);
    expect(t.pending.size).toBe(1);
    await t.advance(100_000);
    expect(calls).toBe(0);
    s.cancel();
    await t.advance(10_000_000);
    expect(calls).toBe(0);
  });
});

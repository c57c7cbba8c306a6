import { describe, expect, it } from 'vitest';
import { backoffMs, nextStep, retryQueue } from './retry.ts';

const policy = { maxAttempts: 5, permanentMaxAttempts: 3, baseMs: 1000, maxMs: 5000 };

describe('backoff', () => {
  it('doubles per failed attempt and is capped', () => {
    expect([1, 2, 3, 4, 5, 40].map((n) => backoffMs(n, policy))).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
  });
});

describe('nextStep', () => {
  it('retries transient failures with growing delays, then dead-letters after maxAttempts', () => {
    const steps = [0, 1, 2, 3, 4].map((prev) => nextStep(503, prev, policy));
    expect(steps).toEqual([
      { kind: 'retry', attempts: 1, delayMs: 1000 },
      { kind: 'retry', attempts: 2, delayMs: 2000 },
      { kind: 'retry', attempts: 3, delayMs: 4000 },
      { kind: 'retry', attempts: 4, delayMs: 5000 },
      { kind: 'dead-letter', attempts: 5 },
    ]);
    expect(nextStep(0, 0, policy).kind).toBe('retry'); // no answer at all is transient
    expect(nextStep(401, 2, policy).kind).toBe('retry'); // a rotated secret heals after a restart
  });
  it('gives a refused (4xx) event fewer tries', () => {
    expect(nextStep(400, 0, policy)).toEqual({ kind: 'retry', attempts: 1, delayMs: 1000 });
    expect(nextStep(400, 2, policy)).toEqual({ kind: 'dead-letter', attempts: 3 });
    expect(nextStep(413, 2, policy).kind).toBe('dead-letter');
  });
  it('names one delay queue per step', () => {
    expect(retryQueue('db', 4000)).toBe('chat.fn.db.retry.4000');
  });
});

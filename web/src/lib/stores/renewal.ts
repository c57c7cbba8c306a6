/** Renew this long before the access token's `expiresIn` runs out. */
export const RENEW_MARGIN_MS = 60_000;
/** Never schedule closer than this, so a tiny expiresIn cannot cause a refresh storm. */
export const MIN_DELAY_MS = 5_000;

/**
 * When to renew a token that expires in `expiresInSec` seconds: a minute before it runs out, or
 * halfway through for tokens that live less than two minutes; never sooner than MIN_DELAY_MS
 * (unless the token itself lives shorter than twice that).
 */
export function renewalDelay(expiresInSec: number): number {
  const life = Math.max(0, expiresInSec * 1000);
  const delay = life > 2 * RENEW_MARGIN_MS ? life - RENEW_MARGIN_MS : life / 2;
  return Math.round(Math.max(1000, Math.min(MIN_DELAY_MS, life / 2), delay));
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Runs `renew` ahead of each expiry. `renew` resolves to the next expiresIn (seconds) or null
 * when the session is over. A failed renewal (network) retries with backoff until the token
 * would have expired anyway.
 */
export class RenewalScheduler {
  private handle: unknown = null;
  private failures = 0;
  private deadline = 0;

  constructor(
    private readonly renew: () => Promise<number | null>,
    private readonly timers: Timers = realTimers,
    private readonly now: () => number = Date.now,
  ) {}

  /** Call after every fresh token. */
  schedule(expiresInSec: number): void {
    this.cancel();
    this.failures = 0;
    this.deadline = this.now() + expiresInSec * 1000;
    this.arm(renewalDelay(expiresInSec));
  }

  cancel(): void {
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = null;
  }

  get scheduled(): boolean {
    return this.handle !== null;
  }

  private arm(ms: number) {
    this.handle = this.timers.setTimeout(() => void this.fire(), ms);
  }

  private async fire() {
    this.handle = null;
    try {
      const next = await this.renew();
      if (next !== null) this.schedule(next);
    } catch {
      this.failures += 1;
      const backoff = Math.min(30_000, 2_000 * 2 ** (this.failures - 1));
      const left = this.deadline - this.now();
      // Keep trying until well past expiry: the HTTP client also renews on a 401.
      if (left > -5 * 60_000) this.arm(backoff);
    }
  }
}

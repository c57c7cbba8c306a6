/**
 * Runs `fn` over the items with at most `limit` calls pending at once, started in order: each lane
 * takes the next item when its call settles. Rejects with the first error; the other lanes finish
 * the call they are in and take no more items.
 */
export async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

/** Counts work in flight, so a graceful stop can wait for the last piece (a socket ack, a call). */
export class InFlight {
  private pending = 0;
  private idle: Array<() => void> = [];

  get count(): number {
    return this.pending;
  }

  track<T>(p: Promise<T>): Promise<T> {
    this.pending++;
    const done = () => {
      if (--this.pending === 0) for (const r of this.idle.splice(0)) r();
    };
    p.then(done, done);
    return p;
  }

  /** Resolves when nothing is in flight, or after `timeoutMs` (returns whether it drained). */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.idle.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}

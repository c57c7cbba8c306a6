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

/**
 * Runs calls that share a key one after another (in call order), calls with different keys at
 * once. For writers of one document on a store whose updates are read-modify-write of the whole
 * document (FerretDB 1.24): two concurrent updates of one document there can lose one of them.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(fn, fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/**
 * Collects items until the batch is full (count or bytes) or the first item has waited maxWaitMs,
 * then hands the batch on. One busy second fills whole batches; a lone message waits maxWaitMs.
 */
export class Batcher<T> {
  private items: T[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: { maxItems: number; maxBytes: number; maxWaitMs: number; size: (item: T) => number; flush: (items: T[], bytes: number) => void },
  ) {}

  add(item: T): void {
    const size = this.opts.size(item);
    if (this.items.length > 0 && this.bytes + size > this.opts.maxBytes) this.flush();
    this.items.push(item);
    this.bytes += size;
    if (this.items.length >= this.opts.maxItems || this.bytes >= this.opts.maxBytes) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.opts.maxWaitMs);
  }

  get size(): number {
    return this.items.length;
  }

  /** Hands on whatever is collected now (also used when draining on shutdown). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.items.length === 0) return;
    const { items, bytes } = this;
    this.items = [];
    this.bytes = 0;
    this.opts.flush(items, bytes);
  }

  /** Forgets the collected items without handing them on (their channel is gone; the broker redelivers). */
  discard(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.items = [];
    this.bytes = 0;
  }
}

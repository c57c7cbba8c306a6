/**
 * Acknowledges deliveries in delivery-tag order with `multiple` acks. Tags settle out of order
 * (batches finish in any order); an ack covers only the prefix of tags that have all settled, so
 * a multiple ack never acknowledges a delivery that is still being handled.
 */
export class ContiguousAcker {
  private readonly outstanding: number[] = [];
  private head = 0;
  /** Settled tags not yet covered by an ack: true = needs an ack, false = already nacked. */
  private readonly settled = new Map<number, boolean>();

  constructor(private readonly ack: (tag: number, multiple: boolean) => void) {}

  /** Every delivery is tracked as it arrives (tags grow per channel). */
  track(tag: number): void {
    this.outstanding.push(tag);
  }

  /** Marks tags done; `needsAck: false` for tags the caller already nacked (requeued). */
  settle(tags: number[], needsAck = true): void {
    for (const t of tags) this.settled.set(t, needsAck);
    let last = -1;
    let count = 0;
    while (this.head < this.outstanding.length && this.settled.has(this.outstanding[this.head]!)) {
      const tag = this.outstanding[this.head]!;
      if (this.settled.get(tag)) {
        last = tag;
        count++;
      }
      this.settled.delete(tag);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.outstanding.length) {
      this.outstanding.splice(0, this.head);
      this.head = 0;
    }
    // A multiple ack up to `last` covers exactly the settled prefix: nacked tags in it are no
    // longer unacknowledged at the broker, and every earlier tag was settled before.
    if (count > 0) this.ack(last, count > 1);
  }

  get pending(): number {
    return this.outstanding.length - this.head;
  }
}

import type { SendMessagePayload } from '@chat/shared/events/socket';
import type { Message } from '@chat/shared/models/types';

export type SendResult =
  | { kind: 'ok'; message: Message }
  /** Not delivered for now (offline, timeout): keep it queued and try again on reconnect. */
  | { kind: 'retry' }
  /** Refused for good (invalid, forbidden...): show it as failed with a retry button. */
  | { kind: 'fail'; error: string };

export type OutboxState = 'queued' | 'sending' | 'failed';

export interface OutboxEntry {
  payload: SendMessagePayload;
  state: OutboxState;
  attempts: number;
  error?: string;
}

export interface OutboxEvents {
  sent(entry: OutboxEntry, message: Message): void;
  failed(entry: OutboxEntry, error: string): void;
  changed?(entry: OutboxEntry): void;
}

/**
 * Messages waiting to be accepted by the server, in the order they were written. One flush at a
 * time sends them strictly in order; a `retry` result stops the flush (we are probably offline) and
 * keeps the rest queued. Every (re)send reuses the entry's clientMsgId, which makes the server's
 * acceptance idempotent, so nothing is delivered twice.
 */
export class Outbox {
  private entries: OutboxEntry[] = [];
  private flushing: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly send: (payload: SendMessagePayload) => Promise<SendResult>,
    private readonly events: OutboxEvents,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  list(): readonly OutboxEntry[] {
    return this.entries;
  }

  get(clientMsgId: string): OutboxEntry | undefined {
    return this.entries.find((e) => e.payload.clientMsgId === clientMsgId);
  }

  /** Queue a new message; the caller flushes when it believes it is online. */
  add(payload: SendMessagePayload): OutboxEntry {
    const existing = this.get(payload.clientMsgId);
    if (existing) return existing;
    const entry: OutboxEntry = { payload, state: 'queued', attempts: 0 };
    this.entries.push(entry);
    return entry;
  }

  /** Put a failed entry back in the queue, keeping its clientMsgId. */
  retry(clientMsgId: string): boolean {
    const entry = this.get(clientMsgId);
    if (!entry || entry.state !== 'failed') return false;
    entry.state = 'queued';
    entry.error = undefined;
    this.events.changed?.(entry);
    return true;
  }

  /** Drop an entry (the user discarded a failed message). */
  discard(clientMsgId: string): void {
    this.entries = this.entries.filter((e) => e.payload.clientMsgId !== clientMsgId);
  }

  /** The server told us (e.g. via message:new or catch-up) that this one arrived. */
  acknowledge(clientMsgId: string): void {
    const entry = this.get(clientMsgId);
    if (entry && entry.state !== 'sending') this.discard(clientMsgId);
  }

  /** Send every queued entry in order. Concurrent calls share one run (and trigger one more pass). */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private async pass() {
    for (const entry of [...this.entries]) {
      if (entry.state !== 'queued' || !this.entries.includes(entry)) continue;
      entry.state = 'sending';
      entry.attempts += 1;
      this.events.changed?.(entry);
      let result: SendResult;
      try {
        result = await this.send(entry.payload);
      } catch {
        result = { kind: 'retry' };
      }
      if (result.kind === 'ok') {
        this.entries = this.entries.filter((e) => e !== entry);
        this.events.sent(entry, result.message);
      } else if (result.kind === 'fail') {
        entry.state = 'failed';
        entry.error = result.error;
        this.events.failed(entry, result.error);
      } else {
        entry.state = 'queued';
        this.events.changed?.(entry);
        this.again = false;
        return; // offline: stop here, keep order
      }
    }
  }
}

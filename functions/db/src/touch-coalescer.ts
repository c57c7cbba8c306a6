import type { Message } from '@chat/shared/models/types';
import type { StreamTouch } from '@chat/shared/repositories/messages';

/** What one batch changes in a conversation or a thread root (shared with the repositories that write it). */
export type TouchUpdate = StreamTouch & {
  /** Fresh inserts that mention each member (not counting one's own messages); conversations only. */
  mentioned?: Record<string, number> | undefined;
  /** System messages among the fresh inserts (counted apart: never unread); conversations only. */
  system?: number | undefined;
  /** The message of messageId as stored (the conversation keeps a copy of its last message); conversations only. */
  last?: Message | undefined;
};

/** Moves a conversation's last message forward and adds to its counters, in one write. */
export type Touch = (conversationId: string, t: TouchUpdate) => Promise<void>;

interface Pending extends TouchUpdate {
  done: Promise<void>;
  settle: (err?: unknown) => void;
}

/**
 * At most one last-message (and counter) write per conversation at a time. Concurrent event calls that store
 * messages of the same conversation each need its last message moved forward before they answer;
 * while one write runs, later requests merge into a single follow-up write of the newest id, and
 * each caller still resolves only once a write covering its message has completed. On FerretDB
 * an update costs ~3 ms of CPU (FerretDB and PostgreSQL), far more than storing a message in a
 * batch, so a busy conversation would otherwise pay for several writes that the newest one
 * makes redundant.
 */
export class TouchCoalescer {
  /** A conversation is here while its write runs; `next` is the write merged to run after it. */
  private readonly conversations = new Map<string, { next: Pending | null }>();

  constructor(private readonly write: Touch) {}

  touch(conversationId: string, t: TouchUpdate): Promise<void> {
    let slot = this.conversations.get(conversationId);
    if (slot?.next) {
      const next = slot.next;
      // Message ids sort in creation order, so the newest id also carries the newest time.
      // The copy of the last message goes with its id.
      if (t.messageId > next.messageId) Object.assign(next, { messageId: t.messageId, at: t.at, last: t.last });
      // Counters add up: the merged write counts every batch it stands for, once.
      next.stored += t.stored;
      next.system = (next.system ?? 0) + (t.system ?? 0);
      for (const [u, n] of Object.entries(t.sent)) next.sent[u] = (next.sent[u] ?? 0) + n;
      for (const [u, n] of Object.entries(t.mentioned ?? {})) (next.mentioned ??= {})[u] = (next.mentioned[u] ?? 0) + n;
      if (t.open && (!next.open || t.open.no > next.open.no)) next.open = t.open;
      return next.done;
    }
    let settle!: Pending['settle'];
    const done = new Promise<void>((resolve, reject) => {
      settle = (err) => (err === undefined ? resolve() : reject(err));
    });
    const pending: Pending = { messageId: t.messageId, at: t.at, stored: t.stored, sent: { ...t.sent }, mentioned: t.mentioned && { ...t.mentioned }, system: t.system, open: t.open, last: t.last, done, settle };
    if (slot) slot.next = pending;
    else {
      slot = { next: pending };
      this.conversations.set(conversationId, slot);
      this.run(conversationId, slot);
    }
    return done;
  }

  /** Runs the slot's pending write, then the one merged meanwhile, until none is left. */
  private run(conversationId: string, slot: { next: Pending | null }): void {
    const current = slot.next;
    if (!current) {
      this.conversations.delete(conversationId);
      return;
    }
    slot.next = null;
    const { messageId, at, stored, sent, mentioned, system, open, last } = current;
    this.write(conversationId, { messageId, at, stored, sent, mentioned, system, open, last })
      .then(
        () => current.settle(),
        (err: unknown) => current.settle(err ?? new Error('touch failed')),
      )
      .finally(() => this.run(conversationId, slot));
  }
}

/** Moves a conversation's last message forward (an idempotent, forward-only write). */
export type Touch = (conversationId: string, messageId: string, at: Date) => Promise<void>;

interface Pending {
  messageId: string;
  at: Date;
  done: Promise<void>;
  settle: (err?: unknown) => void;
}

/**
 * At most one last-message write per conversation at a time. Concurrent event calls that store
 * messages of the same conversation each need its last message moved forward before they answer;
 * while one write runs, later requests merge into a single follow-up write of the newest id, and
 * each caller still resolves only once a write covering its message has completed. On FerretDB
 * an update costs ~3 ms of CPU (FerretDB and PostgreSQL), far more than storing a message in a
 * batch, so a busy conversation would otherwise pay for several writes that the newest one
 * makes redundant.
 */
export class TouchCoalescer {
  private readonly conversations = new Map<string, { next: Pending | null }>();

  constructor(private readonly write: Touch) {}

  touch(conversationId: string, messageId: string, at: Date): Promise<void> {
    const busy = this.conversations.get(conversationId);
    if (!busy) {
      const slot = { next: null as Pending | null };
      this.conversations.set(conversationId, slot);
      const done = this.write(conversationId, messageId, at);
      void done.then(
        () => this.advance(conversationId, slot),
        () => this.advance(conversationId, slot),
      );
      return done;
    }
    if (busy.next) {
      // Message ids sort in creation order, so the newest id also carries the newest time.
      if (messageId > busy.next.messageId) Object.assign(busy.next, { messageId, at });
      return busy.next.done;
    }
    let settle!: Pending['settle'];
    const done = new Promise<void>((resolve, reject) => {
      settle = (err) => (err === undefined ? resolve() : reject(err));
    });
    busy.next = { messageId, at, done, settle };
    return done;
  }

  /** The running write finished (either way): start the merged follow-up, if any. */
  private advance(conversationId: string, slot: { next: Pending | null }): void {
    const next = slot.next;
    if (!next) {
      this.conversations.delete(conversationId);
      return;
    }
    slot.next = null;
    this.write(conversationId, next.messageId, next.at).then(
      () => {
        next.settle();
        this.advance(conversationId, slot);
      },
      (err: unknown) => {
        next.settle(err ?? new Error('touch failed'));
        this.advance(conversationId, slot);
      },
    );
  }
}

import type { Model } from 'mongoose';
import { KeyedQueue } from '../concurrency.ts';
import { isDuplicateKey } from '../infra/mongo.ts';
import type { ThreadSubscriptionDoc } from '../models/schemas.ts';

/** One user's relation to one thread. `following` null: never decided (nobody followed or unfollowed). */
export interface ThreadSubscription {
  userId: string;
  conversationId: string;
  rootId: string;
  following: boolean | null;
  /** The user's read position in the thread, with the thread's replyCount and their own replies at it. */
  readId: string | null;
  readCount: number;
  readSent: number;
}

type Lean = ThreadSubscriptionDoc & { _id: string };

const toSubscription = (d: Lean): ThreadSubscription => ({
  userId: d.userId,
  conversationId: d.conversationId,
  rootId: d.rootId,
  following: typeof d.following === 'boolean' ? d.following : null,
  readId: d.readId ?? null,
  readCount: d.readCount ?? 0,
  readSent: d.readSent ?? 0,
});

const key = (userId: string, conversationId: string, rootId: string) => `${userId}|${conversationId}/${rootId}`;

/**
 * Thread follows and read positions, one document per (user, thread) under a composed `_id`, so
 * every write is an upsert on a unique key (atomic on FerretDB) and every read is an equality:
 * by `_id`, by `userId` (the user's threads) or by `rootId` (a thread's followers).
 */
export class ThreadSubscriptionsRepository {
  /**
   * Writes of one (user, thread) document from this process run one at a time. FerretDB applies
   * an update as a read-modify-write of the whole document, so two at once (a reply's follow and
   * the replier's read, two reads in concurrent event calls) could both start from the old copy:
   * the one written last would take the read position back or undo the follow, and both would
   * answer "moved". Writes from other processes can still race there; MongoDB's are atomic.
   */
  private readonly writes = new KeyedQueue();

  constructor(private readonly model: Model<ThreadSubscriptionDoc>) {}

  async get(userId: string, conversationId: string, rootId: string): Promise<ThreadSubscription | null> {
    const d = await this.model.findById(key(userId, conversationId, rootId)).lean<Lean>();
    return d ? toSubscription(d) : null;
  }

  /** The user's threads (followed or read): one equality read. */
  async forUser(userId: string): Promise<ThreadSubscription[]> {
    return (await this.model.find({ userId: { $eq: userId } }).lean<Lean[]>()).map(toSubscription);
  }

  /** Everyone who has a relation to the thread (followers and those who unfollowed it): one equality read. */
  async forRoot(rootId: string): Promise<ThreadSubscription[]> {
    return (await this.model.find({ rootId: { $eq: rootId } }).lean<Lean[]>()).map(toSubscription);
  }

  /** Follows or unfollows by hand (or by replying / being mentioned, which always follows). */
  async setFollowing(userId: string, conversationId: string, rootId: string, following: boolean): Promise<void> {
    await this.upsert(key(userId, conversationId, rootId), { userId, conversationId, rootId }, { $set: { following } });
  }

  /** Follows unless the user already decided (the root's author, who may have unfollowed before). */
  followIfUndecided(userId: string, conversationId: string, rootId: string): Promise<void> {
    const _id = key(userId, conversationId, rootId);
    return this.writes.run(_id, async () => {
      try {
        await this.model.updateOne(
          { _id: { $eq: _id }, following: null },
          { $set: { following: true }, $setOnInsert: { userId, conversationId, rootId, readId: null, readCount: 0, readSent: 0 } },
          { upsert: true },
        );
      } catch (e) {
        // The document exists with a decision: the filter missed it and the upsert hit its _id.
        if (!isDuplicateKey(e)) throw e;
      }
    });
  }

  /** Moves the read position forward (each field only up); true if the id moved. */
  async advanceRead(userId: string, conversationId: string, rootId: string, at: { readId: string; readCount: number; readSent: number }): Promise<boolean> {
    const prev = await this.upsert(key(userId, conversationId, rootId), { userId, conversationId, rootId }, { $max: at, $setOnInsert: { following: null } });
    return !prev || (prev.readId ?? '') < at.readId;
  }

  private upsert(_id: string, ids: { userId: string; conversationId: string; rootId: string }, update: Record<string, unknown>): Promise<ThreadSubscription | null> {
    const setOnInsert = { ...ids, ...((update.$setOnInsert as object | undefined) ?? {}) };
    return this.writes.run(_id, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const prev = await this.model.findOneAndUpdate({ _id: { $eq: _id } }, { ...update, $setOnInsert: setOnInsert }, { upsert: true, new: false }).lean<Lean>();
          return prev ? toSubscription(prev) : null;
        } catch (e) {
          // Two first writes at once: one upsert inserts, the other retries as an update.
          if (!isDuplicateKey(e) || attempt > 0) throw e;
        }
      }
    });
  }
}

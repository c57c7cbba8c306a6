import type { Model } from 'mongoose';
import type { NotificationPreferenceDoc, PushSubscriptionDoc } from '../models/schemas.ts';
import type { NotificationLevel } from '../models/types.ts';

export interface PushSubscriptionRecord {
  endpoint: string;
  userId: string;
  keys: { p256dh: string; auth: string };
}

const toRecord = (d: PushSubscriptionDoc): PushSubscriptionRecord => ({
  endpoint: d.endpoint,
  userId: d.userId,
  keys: { p256dh: d.p256dh, auth: d.auth },
});

/** A stored notification setting: the older muted flag, and a level where one was set. */
export interface StoredPreference {
  muted: boolean;
  level: string | null;
}

/** Web Push subscriptions, one per device endpoint. */
export class PushSubscriptionsRepository {
  constructor(private readonly model: Model<PushSubscriptionDoc>) {}

  /**
   * Creates or replaces the endpoint's subscription. An endpoint is one browser profile, so when
   * another user signs in there it now notifies that user.
   */
  async upsert(userId: string, endpoint: string, keys: { p256dh: string; auth: string }): Promise<void> {
    const now = new Date();
    await this.model.updateOne(
      { endpoint: { $eq: endpoint } },
      { $set: { userId, p256dh: keys.p256dh, auth: keys.auth, updatedAt: now }, $setOnInsert: { createdAt: now } },
      { upsert: true },
    );
  }

  /** Removes the caller's own subscription; someone else's endpoint is left alone. */
  async removeForUser(userId: string, endpoint: string): Promise<boolean> {
    const res = await this.model.deleteOne({ endpoint: { $eq: endpoint }, userId: { $eq: userId } });
    return res.deletedCount === 1;
  }

  /** Removes an endpoint the push service says is gone (404/410). */
  async removeEndpoint(endpoint: string): Promise<void> {
    await this.model.deleteOne({ endpoint: { $eq: endpoint } });
  }

  /**
   * The devices of an event batch's offline recipients in one `$in` query. FerretDB answers `$in`
   * by reading every subscription, yet this is the event path, not a request path: one query per
   * batch cost the storage bench's notification function 2.2 CPU-s, one equality lookup per
   * recipient (200 a batch) 8.4 (docs/search.md). A user's own subscriptions on the HTTP routes
   * stay equality lookups.
   */
  async findForUsers(userIds: string[]): Promise<PushSubscriptionRecord[]> {
    if (userIds.length === 0) return [];
    const docs = await this.model.find({ userId: { $in: [...new Set(userIds)] } }).lean<PushSubscriptionDoc[]>();
    return docs.map(toRecord);
  }

  async findByEndpoint(endpoint: string): Promise<PushSubscriptionRecord | null> {
    const d = await this.model.findOne({ endpoint: { $eq: endpoint } }).lean<PushSubscriptionDoc>();
    return d ? toRecord(d) : null;
  }
}

/** Per-member, per-conversation notification settings (today: muted or not). */
export class NotificationPreferencesRepository {
  constructor(private readonly model: Model<NotificationPreferenceDoc>) {}

  /** Sets the member's level; `muted` is kept in step (true exactly at `none`) for older readers. */
  async setLevel(conversationId: string, userId: string, level: NotificationLevel): Promise<void> {
    await this.model.updateOne(
      { conversationId: { $eq: conversationId }, userId: { $eq: userId } },
      { $set: { muted: level === 'none', level, updatedAt: new Date() } },
      { upsert: true },
    );
  }

  async find(conversationId: string, userId: string): Promise<StoredPreference | undefined> {
    const d = await this.model.findOne({ conversationId: { $eq: conversationId }, userId: { $eq: userId } }).lean<NotificationPreferenceDoc>();
    return d ? toStored(d) : undefined;
  }

  /** Every setting of one user, by conversation, in one equality read (the conversation list). */
  async forUser(userId: string): Promise<Map<string, StoredPreference>> {
    const docs = await this.model.find({ userId: { $eq: userId } }).lean<NotificationPreferenceDoc[]>();
    return new Map(docs.map((d) => [d.conversationId, toStored(d)]));
  }

  /** These members' settings in these conversations, by prefKey(conversationId, userId). */
  async forPairs(conversationIds: string[], userIds: string[]): Promise<Map<string, StoredPreference>> {
    if (conversationIds.length === 0 || userIds.length === 0) return new Map();
    // One equality lookup per conversation (at most its members' settings) instead of `$in`,
    // which FerretDB answers by reading every setting of every conversation.
    const wanted = new Set(userIds);
    const perConversation = await Promise.all(
      [...new Set(conversationIds)].map((conversationId) =>
        this.model.find({ conversationId: { $eq: conversationId } }).lean<NotificationPreferenceDoc[]>(),
      ),
    );
    return new Map(perConversation.flat().filter((d) => wanted.has(d.userId)).map((d) => [prefKey(d.conversationId, d.userId), toStored(d)]));
  }

}

export const prefKey = (conversationId: string, userId: string) => `${conversationId}:${userId}`;

const toStored = (d: { muted: boolean; level?: unknown }): StoredPreference => ({ muted: d.muted, level: typeof d.level === 'string' ? d.level : null });

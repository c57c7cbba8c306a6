import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errors } from '@chat/shared/errors';
import type { MessageCreatedEvent } from '@chat/shared/events/bus';
import type { Logger } from '@chat/shared/log';
import type { PresenceStore } from '@chat/shared/presence';
import type { ConversationRecord, ConversationsRepository } from '@chat/shared/repositories/conversations';
import { notificationLevel, pushesAtLevel } from '@chat/shared/models/notification-level';
import type { NotificationLevel } from '@chat/shared/models/types';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import type { ThreadSubscriptionsRepository } from '@chat/shared/repositories/threads';
import { prefKey, type NotificationPreferencesRepository, type PushSubscriptionRecord, type PushSubscriptionsRepository } from '@chat/shared/repositories/notifications';
import type { ProfileCache } from '@chat/shared/repositories/profile-cache';
import type { NotificationConfig } from './config.ts';
import { isAllowedEndpoint } from './origins.ts';
import { messagePayload } from './payload.ts';
import type { PushOutcome } from './push.sender.ts';
import type { SubscribeRequest } from './requests.ts';

export interface Sender {
  send(sub: PushSubscriptionRecord, payload: string): Promise<PushOutcome>;
}

type Config = Pick<NotificationConfig, 'PUSH_ALLOWED_ORIGINS' | 'PUSH_CONCURRENCY' | 'PUSH_DEDUPE_TTL_SECONDS'>;

/** Pushes waiting beyond this are dropped (with a log line): notifications are best effort. */
const MAX_QUEUED = 10_000;

const sentKey = (messageId: string, endpoint: string) =>
  `notify:sent:${messageId}:${createHash('sha256').update(endpoint).digest('base64url').slice(0, 32)}`;

/**
 * Subscriptions, mutes, and the push fan-out of new messages. The fan-out decides who gets a push
 * (and claims each device once) before answering the connector; the pushes themselves run in the
 * background with bounded concurrency, so a slow push service never holds up the message path.
 */
export class NotificationService {
  private active = 0;
  private readonly queue: Array<() => Promise<void>> = [];
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly deps: {
      config: Config;
      subscriptions: PushSubscriptionsRepository;
      preferences: NotificationPreferencesRepository;
      conversations: ConversationsRepository;
      /** Senders as a push names them, through the process's profile cache. */
      users: Pick<ProfileCache, 'findByIds'>;
      /** A thread's followers (for replies kept in their thread) and its root. */
      threads: ThreadSubscriptionsRepository;
      messages: MessagesRepository;
      presence: PresenceStore;
      redis: Redis;
      sender: Sender;
      log: Logger;
    },
  ) {}

  async subscribe(userId: string, req: SubscribeRequest): Promise<void> {
    if (!isAllowedEndpoint(req.endpoint, this.deps.config.PUSH_ALLOWED_ORIGINS))
      throw errors.invalid('endpoint: not on an allowed push service');
    await this.deps.subscriptions.upsert(userId, req.endpoint, req.keys);
  }

  async unsubscribe(userId: string, endpoint: string): Promise<void> {
    await this.deps.subscriptions.removeForUser(userId, endpoint);
  }

  async setLevel(userId: string, conversationId: string, level: NotificationLevel): Promise<void> {
    if (!(await this.deps.conversations.findForMember(conversationId, userId))) throw errors.notFound('Conversation');
    await this.deps.preferences.setLevel(conversationId, userId, level);
  }

  /** The caller's level (the default for the conversation when they never chose one). */
  async level(userId: string, conversationId: string): Promise<NotificationLevel> {
    const conv = await this.deps.conversations.findForMember(conversationId, userId);
    if (!conv) throw errors.notFound('Conversation');
    return notificationLevel(await this.deps.preferences.find(conversationId, userId), { type: conv.type, memberCount: conv.memberIds.length });
  }

  /**
   * Queues one push per device of every member who is not the sender, not connected and whose
   * level for the conversation asks for this message (pushesAtLevel). Returns how many were queued (0 for a redelivered event).
   */
  async onMessageCreated(event: MessageCreatedEvent): Promise<number> {
    return (await this.onMessagesCreated([event]))[0]!;
  }

  /**
   * The same for a batch. Each lookup runs once for the whole batch (presence, devices, mutes, the
   * dedupe claims, senders), not once per conversation: a busy batch spans hundreds of
   * conversations, and per-conversation round trips were most of its cost. The cheap checks come
   * first, because most recipients are online or have no device. Recipients come from the event
   * (the members when it was sent), so such a batch reads no conversation at all; one is read only
   * before pushing, to leave out whoever has left it since, and for its title.
   */
  async onMessagesCreated(events: MessageCreatedEvent[]): Promise<number[]> {
    const { conversations, users, presence, preferences, subscriptions, redis, config } = this.deps;
    const counts = events.map(() => 0);
    // By id, one lookup per conversation, concurrently: FerretDB evaluates an _id equality in
    // PostgreSQL but answers an $in by reading the whole collection (on MongoDB both use the index).
    const lookups = new Map<string, Promise<ConversationRecord | null>>();
    const conversation = (id: string) => {
      let found = lookups.get(id);
      if (!found) lookups.set(id, (found = conversations.findById(id)));
      return found;
    };

    const followersOf = new Map<string, Promise<Set<string>>>();
    const followers = (m: MessageCreatedEvent['message']) => {
      let found = followersOf.get(m.threadRootId!);
      if (!found) followersOf.set(m.threadRootId!, (found = this.threadFollowers(m.threadRootId!)));
      return found;
    };
    const recipients = await Promise.all(
      events.map(async ({ message, memberIds }) => {
        // A system message (a rename, a member added) is history, not news: never pushed.
        if (message.kind === 'system') return [];
        const members = (memberIds ?? (await conversation(message.conversationId))?.memberIds ?? []).filter((u) => u !== message.senderId);
        // A reply kept in its thread goes to the thread's followers (and whoever it mentions, who follow it by that).
        if (!message.threadRootId || message.alsoToChannel) return members;
        const following = await followers(message);
        return members.filter((u) => following.has(u) || message.mentions.includes(u));
      }),
    );
    const candidates = [...new Set(recipients.flat())];
    if (candidates.length === 0) return counts;
    const online = await presence.onlineAmong(candidates);
    const offline = new Set(candidates.filter((u) => !online.has(u)));
    if (offline.size === 0) return counts;
    const devicesOf = new Map<string, PushSubscriptionRecord[]>();
    for (const d of await subscriptions.findForUsers([...offline])) {
      if (isAllowedEndpoint(d.endpoint, config.PUSH_ALLOWED_ORIGINS)) devicesOf.set(d.userId, [...(devicesOf.get(d.userId) ?? []), d]);
    }
    const reachable = events.flatMap((_, i) => {
      const devices = recipients[i]!.filter((u) => offline.has(u)).flatMap((u) => devicesOf.get(u) ?? []);
      return devices.length > 0 ? [{ i, devices }] : [];
    });
    if (reachable.length === 0) return counts;
    const current = new Map<string, { conversation: ConversationRecord; members: Set<string> }>();
    for (const c of await Promise.all([...new Set(reachable.map(({ i }) => events[i]!.message.conversationId))].map(conversation))) {
      if (c) current.set(c.id, { conversation: c, members: new Set(c.memberIds) });
    }
    const prefs = await preferences.forPairs(
      [...current.keys()],
      [...new Set(reachable.flatMap((r) => r.devices.map((d) => d.userId)))],
    );

    // SET NX per (message, device): whichever delivery of the event claims it first pushes.
    const wanted = reachable.flatMap(({ i, devices }) => {
      const now = current.get(events[i]!.message.conversationId);
      if (!now) return [];
      const { conversation, members } = now;
      const kind = { type: conversation.type, memberCount: conversation.memberIds.length };
      const wants = (u: string) => members.has(u) && pushesAtLevel(notificationLevel(prefs.get(prefKey(conversation.id, u)), kind), events[i]!.message, u);
      return devices.filter((d) => wants(d.userId)).map((sub) => ({ i, sub, conversation }));
    });
    if (wanted.length === 0) return counts;
    const pipe = redis.pipeline();
    for (const w of wanted) pipe.set(sentKey(events[w.i]!.message.id, w.sub.endpoint), '1', 'EX', config.PUSH_DEDUPE_TTL_SECONDS, 'NX');
    const claims = (await pipe.exec()) ?? [];
    const mine = wanted.filter((_, j) => claims[j]?.[1] === 'OK');
    if (mine.length === 0) return counts;
    const senders = new Map((await users.findByIds(mine.map((w) => events[w.i]!.message.senderId))).map((u) => [u.id, u]));
    const payloads = new Map<number, string>();
    for (const { i, sub, conversation } of mine) {
      const { message } = events[i]!;
      if (!payloads.has(i)) payloads.set(i, JSON.stringify(messagePayload(message, senders.get(message.senderId) ?? null, conversation)));
      this.enqueue(() => this.push(message.id, sub, payloads.get(i)!));
      counts[i]! += 1;
    }
    return counts;
  }

  /**
   * Who follows a thread as a reply arrives: those whose follow is recorded, and the root's author
   * unless they unfollowed it (their follow is recorded only once the db function stores the
   * first reply, which may come after this event). Two reads: the thread's relations by rootId,
   * and the root by _id.
   */
  private async threadFollowers(rootId: string): Promise<Set<string>> {
    const [subs, root] = await Promise.all([this.deps.threads.forRoot(rootId), this.deps.messages.findById(rootId)]);
    const out = new Set(subs.filter((s) => s.following === true).map((s) => s.userId));
    if (root && !subs.some((s) => s.userId === root.senderId && s.following === false)) out.add(root.senderId);
    return out;
  }

  /** Resolves once every queued push has finished, or after timeoutMs (for shutdown and tests). */
  async drain(timeoutMs: number): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idle.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.idle.add(done);
    });
  }

  private async push(messageId: string, sub: PushSubscriptionRecord, payload: string): Promise<void> {
    const { sender, subscriptions, redis, log } = this.deps;
    const outcome = await sender.send(sub, payload);
    if (outcome.result === 'gone') {
      await subscriptions.removeEndpoint(sub.endpoint);
      log.info('push subscription gone; removed', { status: outcome.status, userId: sub.userId });
    } else if (outcome.result === 'failed') {
      // Free the claim so a redelivery of the event may try this device again.
      await redis.del(sentKey(messageId, sub.endpoint));
      log.warn('push failed', { status: outcome.status, attempts: outcome.attempts, origin: new URL(sub.endpoint).origin });
    }
  }

  private enqueue(task: () => Promise<void>): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.deps.log.warn('push queue full; dropping a notification');
      return;
    }
    this.queue.push(task);
    this.pump();
  }

  private pump(): void {
    while (this.active < this.deps.config.PUSH_CONCURRENCY && this.queue.length > 0) {
      const task = this.queue.shift()!;
      this.active++;
      task()
        .catch((e) => this.deps.log.error('push task failed', { err: e }))
        .finally(() => {
          this.active--;
          this.pump();
          if (this.active === 0 && this.queue.length === 0) for (const done of [...this.idle]) done();
        });
    }
  }
}

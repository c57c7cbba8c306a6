import { errors } from '@chat/shared/errors';
import type { ConversationCreatedEvent, ConversationUpdatedEvent, MembersChangedEvent } from '@chat/shared/events/bus';
import type { Logger } from '@chat/shared/log';
import { LIMITS } from '@chat/shared/models/limits';
import { notificationLevel } from '@chat/shared/models/notification-level';
import type { AroundPage, Conversation, HistoryPage, Message, User } from '@chat/shared/models/types';
import type { ChunksRepository } from '@chat/shared/repositories/chunks';
import {
  lastMessageOf,
  toConversation,
  type ConversationRecord,
  type ConversationsRepository,
  type ReadPositionRecord,
  type ReadPositionsRepository,
} from '@chat/shared/repositories/conversations';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import type { NotificationPreferencesRepository } from '@chat/shared/repositories/notifications';
import type { ProfileCache } from '@chat/shared/repositories/profile-cache';
import type { UsersRepository } from '@chat/shared/repositories/users';
import { conversationSource } from './history/conversation-stream.ts';
import { pageAfter, pageAround, pageBefore } from './history/pager.ts';
import { planAddMembers, planDemote, planPromote, planRemove, planRename, type Plan } from './groups/rules.ts';
import { systemMessage } from './groups/system-messages.ts';
import { unreadCount, unreadMentionCount, type ReadsService } from './reads.service.ts';

/** What the service tells the rest of the system; publishing failures never undo a stored change. */
export interface ConversationEvents {
  created(e: ConversationCreatedEvent): void;
  membersChanged(e: MembersChangedEvent): void;
  updated(e: ConversationUpdatedEvent): void;
  /** Publishes a system message as message.created (the store's pipeline); resolves on the broker's confirm. */
  systemMessage(message: Message, memberIds: string[]): Promise<void>;
}

/** How often a change computed from a record that moved on meanwhile is recomputed. */
const CHANGE_ATTEMPTS = 5;

export type CreateConversationInput =
  | { type: 'direct'; memberIds: string[] }
  | { type: 'group'; title: string; memberIds: string[] };

/**
 * Conversations, membership, history and read positions (search: search.service.ts). Every read goes through a
 * membership check that answers "not found" to outsiders, so no one learns what exists.
 */
export class ConversationsService {
  constructor(
    private readonly deps: {
      users: UsersRepository;
      /** Members as lists show them, kept while the profiles revision stays (profile-cache.ts). */
      profiles: Pick<ProfileCache, 'findByIds'>;
      conversations: ConversationsRepository;
      messages: MessagesRepository;
      chunks: ChunksRepository;
      reads: ReadPositionsRepository;
      readsService: ReadsService;
      preferences: NotificationPreferencesRepository;
      events: ConversationEvents;
      log: Logger;
      now?: () => number;
    },
  ) {}

  searchUsers(callerId: string, q: string): Promise<User[]> {
    return this.deps.users.searchByPrefix(q, LIMITS.userSearchMax, callerId);
  }

  async create(callerId: string, input: CreateConversationInput): Promise<{ conversation: Conversation; created: boolean }> {
    const { conversations, events } = this.deps;
    if (input.type === 'direct') {
      const otherId = input.memberIds[0]!;
      if (otherId === callerId) throw errors.invalid('memberIds: a direct conversation needs another user.');
      await this.requireUsers([otherId]);
      const { conversation, created } = await conversations.createDirect(callerId, otherId);
      if (created) events.created({ conversationId: conversation.id, memberIds: conversation.memberIds });
      return { conversation: await this.present(conversation, callerId), created };
    }
    const others = [...new Set(input.memberIds)].filter((m) => m !== callerId);
    if (others.length + 1 > LIMITS.groupMembersMax) throw errors.invalid(`memberIds: a group has at most ${LIMITS.groupMembersMax} members.`);
    await this.requireUsers(others);
    const at = this.now();
    const conversation = await conversations.createGroup(callerId, input.title, others, (id) => [systemMessage(id, 0, 0, { type: 'conversation_created', actorId: callerId }, at)]);
    const messages = await this.deliver(conversation, conversation.outbox);
    events.created({ conversationId: conversation.id, memberIds: conversation.memberIds, messages });
    return { conversation: await this.present(conversation, callerId), created: true };
  }

  async list(callerId: string): Promise<Conversation[]> {
    const convs = await this.deps.conversations.listForMember(callerId);
    // A change whose record was not published (a process died in between) is published now.
    for (const c of convs) if (c.outbox.length) void this.recover(c).catch((e) => this.deps.log.warn('system message recovery failed', { conversationId: c.id, err: e }));
    return this.presentMany(convs, callerId);
  }

  async get(callerId: string, conversationId: string): Promise<Conversation> {
    const conv = await this.memberOf(callerId, conversationId);
    if (conv.outbox.length) await this.recover(conv);
    return this.present(conv, callerId);
  }

  async addMembers(callerId: string, conversationId: string, userIds: string[]): Promise<Conversation> {
    const known = new Set<string>();
    const updated = await this.change(callerId, conversationId, async (conv) => {
      const plan = planAddMembers(conv, callerId, userIds);
      const fresh = plan?.live.kind === 'members' ? plan.live.added.filter((u) => !known.has(u)) : [];
      await this.requireUsers(fresh);
      fresh.forEach((u) => known.add(u));
      return plan;
    });
    return this.present(updated, callerId);
  }

  async removeMember(callerId: string, conversationId: string, userId: string): Promise<void> {
    await this.change(callerId, conversationId, (conv) => planRemove(conv, callerId, userId));
  }

  /** PATCH /conversations/:id {title} (the title arrives trimmed and within its limits). */
  async rename(callerId: string, conversationId: string, title: string): Promise<Conversation> {
    return this.present(await this.change(callerId, conversationId, (conv) => planRename(conv, callerId, title)), callerId);
  }

  async setAdmin(callerId: string, conversationId: string, userId: string, admin: boolean): Promise<Conversation> {
    const plan = admin ? planPromote : planDemote;
    return this.present(await this.change(callerId, conversationId, (conv) => plan(conv, callerId, userId)), callerId);
  }

  /**
   * Runs a group change: plans it on the current record (null: nothing to change, the same
   * request again), writes it with its system messages in the outbox in one update, then
   * publishes them through the message pipeline and tells the gateways. A record that moved on
   * meanwhile is read again and the change planned anew, so a plan never applies to stale state.
   */
  private async change(callerId: string, conversationId: string, plan: (conv: ConversationRecord) => Plan | null | Promise<Plan | null>): Promise<ConversationRecord> {
    for (let attempt = 1; ; attempt++) {
      const conv = await this.memberOf(callerId, conversationId);
      if (conv.outbox.length) await this.recover(conv);
      const p = await plan(conv);
      if (!p) return conv;
      const at = this.now();
      const messages = p.events.map((e, i) => systemMessage(conv.id, conv.rev + 1, i, e, at));
      const added = (p.change.memberIds ?? []).some((m) => !conv.memberIds.includes(m));
      const updated = await this.deps.conversations.applyChange(conv.id, conv.rev, p.change, messages, added);
      if (!updated) {
        if (attempt >= CHANGE_ATTEMPTS) throw errors.unavailable('The conversation is changing too fast; retry.');
        continue;
      }
      this.announce(updated, p.live, await this.deliver(updated, messages));
      return updated;
    }
  }

  private announce(conv: ConversationRecord, live: Plan['live'], messages: Message[]): void {
    if (live.kind === 'members') this.deps.events.membersChanged({ conversationId: conv.id, added: live.added, removed: live.removed, memberIds: conv.memberIds, messages });
    else this.deps.events.updated({ conversationId: conv.id, messages });
  }

  /**
   * Publishes outbox messages (awaiting the broker's confirm), then drops them from the outbox.
   * A failure leaves them there: the change stands, and the next read or change of the
   * conversation publishes them (their ids are fixed, so the store keeps one of each).
   */
  private async deliver(conv: ConversationRecord, messages: Message[]): Promise<Message[]> {
    if (messages.length === 0) return [];
    try {
      // In order: the store and every gateway see a change's records as they happened.
      for (const m of messages) await this.deps.events.systemMessage(m, conv.memberIds);
      await this.deps.conversations.clearOutbox(conv.id, messages);
      return messages;
    } catch (e) {
      this.deps.log.warn('system messages left in the outbox', { conversationId: conv.id, err: e });
      return [];
    }
  }

  /** Publishes what a change left in the outbox; members get them live with conversation:updated. */
  private async recover(conv: ConversationRecord): Promise<void> {
    const messages = await this.deliver(conv, conv.outbox);
    if (messages.length) this.deps.events.updated({ conversationId: conv.id, messages });
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /**
   * A history page: before/after an id (or the newest), or `around` a message of the
   * conversation (404 for an unknown one). Whole chunks are read by equality (docs/storage.md).
   * An unknown before/after id pages by id order from where it would be, as an id range did.
   */
  async history(
    callerId: string,
    conversationId: string,
    q: { before?: string | undefined; after?: string | undefined; around?: string | undefined; limit: number },
  ): Promise<HistoryPage | AroundPage> {
    const conv = await this.memberOf(callerId, conversationId);
    const src = conversationSource(conv, this.deps);
    if (q.around) {
      const found = await this.deps.messages.findWithChunk(q.around);
      if (!found || found.message.conversationId !== conv.id) throw errors.notFound('Message');
      return pageAround(src, found.message, found.chunk ?? (await src.locate(q.around)), q.limit);
    }
    return q.after ? pageAfter(src, q.after, q.limit) : pageBefore(src, q.before, q.limit);
  }

  /** Moves the caller's read position forward to messageId; never backwards. */
  async markRead(callerId: string, conversationId: string, messageId: string): Promise<void> {
    const conv = await this.memberOf(callerId, conversationId);
    if ((await this.deps.readsService.markRead(conv, callerId, messageId)) === 'missing') throw errors.notFound('Message');
  }

  private async memberOf(callerId: string, conversationId: string): Promise<ConversationRecord> {
    const conv = await this.deps.conversations.findForMember(conversationId, callerId);
    if (!conv) throw errors.notFound('Conversation');
    return conv;
  }

  private async requireUsers(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const found = new Set((await this.deps.users.findByIds(ids)).map((u) => u.id));
    const missing = ids.filter((i) => !found.has(i));
    if (missing.length) throw errors.invalid(`Unknown user ${missing[0]}.`);
  }

  /**
   * Every member's read position, per conversation: for conversations whose positions all list
   * their members (readsByAudience), one `{audience: caller}` read for all of them; the others
   * (older records, groups that took members in) one `{conversationId}` read each.
   */
  private async positions(convs: ConversationRecord[], callerId: string): Promise<ReadPositionRecord[][]> {
    const { reads } = this.deps;
    // For one conversation its own read is the smaller answer.
    const batched = convs.filter((c) => c.readsByAudience).length > 1 ? reads.forAudience(callerId) : null;
    return Promise.all(convs.map(async (c) => (batched && c.readsByAudience ? ((await batched).get(c.id) ?? []) : reads.forConversation(c.id))));
  }

  private async present(conv: ConversationRecord, callerId: string): Promise<Conversation> {
    return (await this.presentMany([conv], callerId))[0]!;
  }

  /**
   * Hydrates records into contract objects: the last message from the record's copy, the read
   * positions in one `{audience}` read, the members from the profile cache (one revision read, and
   * one `_id` read per member it has not kept) and the caller's notification settings in one read,
   * so hydrating a list costs four reads once its members are kept, whatever its length. Records
   * without the copy or the audience (older data, groups that took members in) cost one equality
   * read each for what they lack (docs/storage.md). Nothing here scans messages.
   */
  private async presentMany(convs: ConversationRecord[], callerId: string): Promise<Conversation[]> {
    if (convs.length === 0) return [];
    const { profiles, messages, preferences } = this.deps;
    const [people, lasts, positions, prefs] = await Promise.all([
      profiles.findByIds(convs.flatMap((c) => c.memberIds)),
      // The record's copy of its last message; a record without one (older data) reads it by _id.
      Promise.all(convs.map((c) => lastMessageOf(c) ?? (c.lastMessageId ? messages.findById(c.lastMessageId) : null))),
      this.positions(convs, callerId),
      preferences.forUser(callerId),
    ]);
    const userById = new Map(people.map((u) => [u.id, u]));
    return convs.map((c, i) => {
      const members = new Set(c.memberIds);
      const readPositions = positions[i]!.filter((p) => members.has(p.userId));
      const own = readPositions.find((p) => p.userId === callerId);
      return toConversation(c, {
        members: c.memberIds.map((m) => userById.get(m)).filter((u): u is User => u !== undefined),
        lastMessage: lasts[i] ?? null,
        unreadCount: unreadCount(c, callerId, own),
        unreadMentionCount: unreadMentionCount(c, callerId, own),
        notificationLevel: notificationLevel(prefs.get(c.id), { type: c.type, memberCount: c.memberIds.length }),
        readPositions: readPositions.map((p) => ({ userId: p.userId, messageId: p.messageId })),
      });
    });
  }
}

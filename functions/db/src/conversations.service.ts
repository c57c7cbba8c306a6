import { errors } from '@chat/shared/errors';
import type { ConversationCreatedEvent, MembersChangedEvent } from '@chat/shared/events/bus';
import { LIMITS } from '@chat/shared/models/limits';
import { notificationLevel } from '@chat/shared/models/notification-level';
import type { AroundPage, Conversation, HistoryPage, User } from '@chat/shared/models/types';
import type { ChunksRepository } from '@chat/shared/repositories/chunks';
import { toConversation, type ConversationRecord, type ConversationsRepository, type ReadPositionsRepository } from '@chat/shared/repositories/conversations';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import type { NotificationPreferencesRepository } from '@chat/shared/repositories/notifications';
import type { UsersRepository } from '@chat/shared/repositories/users';
import { conversationSource } from './history/conversation-stream.ts';
import { pageAfter, pageAround, pageBefore } from './history/pager.ts';
import { unreadCount, unreadMentionCount, type ReadsService } from './reads.service.ts';

/** What the service tells the rest of the system; publishing failures never undo a stored change. */
export interface ConversationEvents {
  created(e: ConversationCreatedEvent): void;
  membersChanged(e: MembersChangedEvent): void;
}

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
      conversations: ConversationsRepository;
      messages: MessagesRepository;
      chunks: ChunksRepository;
      reads: ReadPositionsRepository;
      readsService: ReadsService;
      preferences: NotificationPreferencesRepository;
      events: ConversationEvents;
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
    const conversation = await conversations.createGroup(callerId, input.title, others);
    events.created({ conversationId: conversation.id, memberIds: conversation.memberIds });
    return { conversation: await this.present(conversation, callerId), created: true };
  }

  async list(callerId: string): Promise<Conversation[]> {
    return this.presentMany(await this.deps.conversations.listForMember(callerId), callerId);
  }

  async get(callerId: string, conversationId: string): Promise<Conversation> {
    return this.present(await this.memberOf(callerId, conversationId), callerId);
  }

  async addMembers(callerId: string, conversationId: string, userIds: string[]): Promise<Conversation> {
    const { conversations, events } = this.deps;
    const conv = await this.memberOf(callerId, conversationId);
    if (conv.type !== 'group') throw errors.invalid('A direct conversation always has exactly its two members.');
    if (!conv.admins.includes(callerId)) throw errors.forbidden('Only group admins add members.');
    const added = [...new Set(userIds)].filter((u) => !conv.memberIds.includes(u));
    if (conv.memberIds.length + added.length > LIMITS.groupMembersMax) throw errors.invalid(`userIds: a group has at most ${LIMITS.groupMembersMax} members.`);
    await this.requireUsers(added);
    if (added.length === 0) return this.present(conv, callerId);
    const updated = (await conversations.addMembers(conv.id, added)) ?? conv;
    events.membersChanged({ conversationId: conv.id, added, removed: [], memberIds: updated.memberIds });
    return this.present(updated, callerId);
  }

  async removeMember(callerId: string, conversationId: string, userId: string): Promise<void> {
    const { conversations, events } = this.deps;
    const conv = await this.memberOf(callerId, conversationId);
    if (!conv.memberIds.includes(userId)) throw errors.notFound('Member');
    if (conv.type !== 'group') throw errors.invalid('Nobody leaves a direct conversation.');
    if (userId !== callerId && !conv.admins.includes(callerId)) throw errors.forbidden('Only group admins remove other members.');
    let updated = await conversations.removeMember(conv.id, userId);
    if (!updated) return;
    // A group whose last admin left would be frozen; its longest-standing member takes over.
    const heir = updated.memberIds[0];
    if (updated.admins.length === 0 && heir) updated = (await conversations.promoteIfNoAdmin(conv.id, heir)) ?? updated;
    events.membersChanged({ conversationId: conv.id, added: [], removed: [userId], memberIds: updated.memberIds });
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

  private async present(conv: ConversationRecord, callerId: string): Promise<Conversation> {
    return (await this.presentMany([conv], callerId))[0]!;
  }

  /**
   * Hydrates records into contract objects with a constant number of equality reads per
   * conversation (its last message by _id, its read positions by conversationId), users by _id
   * once each, and the caller's notification settings in one read. Nothing here scans messages.
   */
  private async presentMany(convs: ConversationRecord[], callerId: string): Promise<Conversation[]> {
    if (convs.length === 0) return [];
    const { users, messages, reads, preferences } = this.deps;
    const [people, lasts, positions, prefs] = await Promise.all([
      users.findByIds(convs.flatMap((c) => c.memberIds)),
      Promise.all(convs.map((c) => (c.lastMessageId ? messages.findById(c.lastMessageId) : null))),
      Promise.all(convs.map((c) => reads.forConversation(c.id))),
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

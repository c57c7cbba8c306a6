import { randomBytes } from 'node:crypto';
import { errors } from '@chat/shared/errors';
import { messageId } from '@chat/shared/ids';
import { LIMITS } from '@chat/shared/models/limits';
import type { Publisher } from '@chat/shared/infra/rabbit';
import { plainMessageFields, type Attachment, type Message } from '@chat/shared/models/types';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import type { MembershipCache } from './membership.ts';
import type { MentionResolver } from './mentions.ts';
import type { SendLedger } from './send-ledger.ts';

/** Resolves attachment file ids to completed files of the conversation; throws invalid_request otherwise. */
export type AttachmentResolver = (fileIds: string[], conversationId: string) => Promise<Attachment[]>;

export interface SendInput {
  conversationId: string;
  clientMsgId: string;
  body: string;
  attachments?: string[] | undefined;
  replyToId?: string | null | undefined;
  threadRootId?: string | null | undefined;
  alsoToChannel?: boolean | undefined;
}

/**
 * The rules of messaging, independent of Socket.IO: who may send, edit, delete and react, and
 * the order of effects — a change is acknowledged only once RabbitMQ has confirmed its event,
 * and the store applies the same event, so what clients saw and what is stored agree.
 */
export class MessagingService {
  constructor(
    private readonly deps: {
      ledger: SendLedger;
      membership: MembershipCache;
      publisher: Publisher;
      messages: MessagesRepository;
      resolveAttachments: AttachmentResolver;
      mentions: Pick<MentionResolver, 'resolve'>;
      /**
       * For this long after the send ledger lost its data (a Redis restart), a send the ledger
       * does not know is looked up in the store first: it may be the resend of a message acked
       * before the loss. 0 turns the lookup off.
       */
      ledgerRecoveryMs?: number;
    },
  ) {}

  async assertMember(conversationId: string, userId: string): Promise<void> {
    await this.membersOf(conversationId, userId);
  }

  /** The conversation's members, if userId is one of them; not_found otherwise, as for a missing one. */
  private async membersOf(conversationId: string, userId: string): Promise<ReadonlySet<string>> {
    const entry = await this.deps.membership.get(conversationId);
    if (!entry?.members.has(userId)) throw errors.notFound('Conversation');
    return entry.members;
  }

  /**
   * Sends a message once per (sender, clientMsgId) and returns it; `announce` (the live
   * `message:new`) runs once the publish is confirmed, if this call is the one to announce it.
   *
   * A first attempt announces before the ledger records the send as done. A gateway that dies
   * between the two leaves the record reserved, and the client's resend publishes and announces
   * again (members may get it twice; they merge by id). In the other order, a gateway that died
   * after recording it done would leave a resend that announces nothing: a message stored but
   * never shown live, and missed by a catch-up from a later message. A resend of a reserved record
   * announces only if it is the one that records it done, so two live attempts announce once.
   */
  async send(senderId: string, input: SendInput, announce: (message: Message) => void): Promise<Message> {
    const { ledger, publisher } = this.deps;
    const members = await this.membersOf(input.conversationId, senderId);

    const earlier = await ledger.reserve(senderId, input.clientMsgId, input.conversationId, randomBytes(6).toString('hex'));
    if (earlier.kind === 'done') return earlier.message;
    if (earlier.kind === 'limited') throw errors.rateLimited(Math.max(1, Math.ceil(earlier.retryAfterMs / 1000)));
    if (earlier.kind === 'new' && earlier.epochMs !== undefined && Date.now() - earlier.epochMs < (this.deps.ledgerRecoveryMs ?? 0)) {
      const stored = await this.deps.messages.findBySenderAndClientMsgId(senderId, input.clientMsgId);
      if (stored && stored.conversationId === input.conversationId) {
        // Acked before Redis lost it: the same message again, not broadcast twice. The ledger
        // learns it back, so the next resend is answered without the store.
        await ledger.complete(senderId, input.clientMsgId, earlier.record, stored);
        return stored;
      }
    }

    const [attachments, replyToId, threadRootId, mentions] = await Promise.all([
      input.attachments?.length ? this.deps.resolveAttachments(input.attachments, input.conversationId) : Promise.resolve([]),
      input.replyToId ? this.checkReplyTarget(input.replyToId, input.conversationId) : Promise.resolve(null),
      input.threadRootId ? this.checkThreadRoot(input.threadRootId, input.conversationId) : Promise.resolve(null),
      this.deps.mentions.resolve(input.body, members, senderId),
    ]);
    const message: Message = {
      id: messageId(earlier.createdAtMs, earlier.suffix),
      conversationId: input.conversationId,
      senderId,
      clientMsgId: input.clientMsgId,
      body: input.body,
      attachments,
      replyToId,
      reactions: [],
      createdAt: new Date(earlier.createdAtMs).toISOString(),
      editedAt: null,
      deletedAt: null,
      ...plainMessageFields(),
      mentions,
      threadRootId,
      alsoToChannel: threadRootId !== null && input.alsoToChannel === true,
    };
    // The recipients travel with the event, so the notification function needs no conversation
    // lookup for the usual message, whose recipients are all online or have no device. A list
    // over the contract's group limit (never created through the API) is left out, not refused.
    const memberIds = members.size <= LIMITS.groupMembersMax ? [...members] : undefined;
    await publisher.publish('message.created', { message, memberIds }, { messageId: message.id });
    const first = earlier.kind === 'new';
    if (first) announce(message);
    const done = await ledger.complete(senderId, input.clientMsgId, earlier.record, message);
    if (!first && done.won) announce(done.message);
    return done.message;
  }

  async edit(userId: string, input: { messageId: string; body: string }): Promise<Message> {
    const current = await this.load(input.messageId, userId);
    if (current.senderId !== userId) throw errors.forbidden('Only the sender can edit a message.');
    if (current.deletedAt) throw errors.notFound('Message');
    const editedAt = new Date().toISOString();
    // An edit is read again for mentions, against the members of now.
    const members = await this.membersOf(current.conversationId, userId);
    const mentions = await this.deps.mentions.resolve(input.body, members, userId);
    await this.deps.publisher.publish('message.updated', { kind: 'edit', messageId: current.id, conversationId: current.conversationId, body: input.body, editedAt, mentions });
    const updated = { ...current, body: input.body, editedAt, mentions };
    await this.deps.ledger.remember(updated);
    return updated;
  }

  async remove(userId: string, input: { messageId: string }): Promise<{ conversationId: string; messageId: string }> {
    const current = await this.load(input.messageId, userId);
    if (current.senderId !== userId) {
      const conv = await this.deps.membership.get(current.conversationId);
      if (!(conv?.type === 'group' && conv.admins.has(userId))) throw errors.forbidden('Only the sender or a group admin can delete a message.');
    }
    if (!current.deletedAt) {
      const deletedAt = new Date().toISOString();
      await this.deps.publisher.publish('message.deleted', { messageId: current.id, conversationId: current.conversationId, deletedAt, deletedBy: userId });
      await this.deps.ledger.remember({ ...current, body: '', attachments: [], deletedAt });
    }
    return { conversationId: current.conversationId, messageId: current.id };
  }

  async toggleReaction(userId: string, input: { messageId: string; emoji: string }): Promise<Message> {
    const current = await this.load(input.messageId, userId);
    if (current.deletedAt) throw errors.notFound('Message');
    const entry = current.reactions.find((r) => r.emoji === input.emoji);
    const op = entry?.userIds.includes(userId) ? 'remove' : 'add';
    await this.deps.publisher.publish('message.updated', { kind: 'reaction', messageId: current.id, conversationId: current.conversationId, emoji: input.emoji, userId, op });
    const reactions = current.reactions.map((r) => ({ emoji: r.emoji, userIds: [...r.userIds] }));
    if (op === 'add') {
      const e = reactions.find((r) => r.emoji === input.emoji);
      if (e) e.userIds.push(userId);
      else reactions.push({ emoji: input.emoji, userIds: [userId] });
    } else {
      const e = reactions.find((r) => r.emoji === input.emoji)!;
      e.userIds = e.userIds.filter((u) => u !== userId);
    }
    const updated = { ...current, reactions: reactions.filter((r) => r.userIds.length > 0) };
    await this.deps.ledger.remember(updated);
    return updated;
  }

  /**
   * Asks the db function, the only writer of read positions, to move this one: acknowledged once
   * RabbitMQ confirms. The db function stores it (forward only) and announces conversation.read,
   * which every gateway relays to the conversation's room (read-relay.ts), as for POST /read.
   */
  async markRead(userId: string, input: { conversationId: string; messageId: string; threadRootId?: string | null | undefined }): Promise<void> {
    await this.assertMember(input.conversationId, userId);
    const msg = await this.find(input.messageId);
    if (!msg || msg.conversationId !== input.conversationId) throw errors.notFound('Message');
    const threadRootId = input.threadRootId ?? undefined;
    // A thread's position moves on its replies; the conversation's on what its history shows.
    if (threadRootId && msg.threadRootId !== threadRootId) throw errors.invalid('messageId: not a reply of that thread');
    if (!threadRootId && msg.threadRootId && !msg.alsoToChannel) throw errors.invalid('messageId: a thread reply; read it with threadRootId');
    await this.deps.publisher.publish('message.read', { conversationId: input.conversationId, userId, messageId: input.messageId, ...(threadRootId ? { threadRootId } : {}) });
  }

  /**
   * The freshest known state: the recent cache (ahead of the store by a few ms), else the store.
   * Enough for the checks of a send or a read (conversation, kind, thread), which the thread
   * summary does not enter: a cached target costs the store nothing.
   */
  private async find(messageId: string): Promise<Message | null> {
    return (await this.deps.ledger.recent(messageId)) ?? (await this.deps.messages.findById(messageId));
  }

  /** A message about to be changed and sent out again (edit, reaction, delete). */
  private async load(messageId: string, userId: string): Promise<Message> {
    const [recent, stored] = await Promise.all([this.deps.ledger.recent(messageId), this.deps.messages.findById(messageId)]);
    // The thread summary has one writer, the db function, and only the store has it: an edit or a
    // reaction on a root must not send the root out with the summary it had when it was cached.
    const msg = recent ? { ...recent, thread: stored?.thread ?? recent.thread } : stored;
    if (!msg || !(await this.deps.membership.isMember(msg.conversationId, userId))) throw errors.notFound('Message');
    return msg;
  }

  /** A thread hangs off a top-level user message of the same conversation: not a reply, not a system record. */
  private async checkThreadRoot(rootId: string, conversationId: string): Promise<string> {
    const root = await this.find(rootId);
    if (!root || root.conversationId !== conversationId) throw errors.invalid('threadRootId: no such message in this conversation');
    if (root.threadRootId) throw errors.invalid('threadRootId: a reply cannot start a thread; reply in its thread instead');
    if (root.kind === 'system') throw errors.invalid('threadRootId: a system message cannot start a thread');
    return rootId;
  }

  private async checkReplyTarget(replyToId: string, conversationId: string): Promise<string> {
    const target = await this.find(replyToId);
    if (!target || target.conversationId !== conversationId) throw errors.invalid('replyToId: no such message in this conversation');
    return replyToId;
  }
}

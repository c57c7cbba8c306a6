import { errors } from '@chat/shared/errors';
import type { ReadEvent } from '@chat/shared/events/bus';
import type { Message, ThreadAroundPage, ThreadPage, ThreadView } from '@chat/shared/models/types';
import type { ChunksRepository } from '@chat/shared/repositories/chunks';
import type { ConversationRecord, ConversationsRepository } from '@chat/shared/repositories/conversations';
import type { MessagesRepository, ThreadState } from '@chat/shared/repositories/messages';
import type { ThreadSubscription, ThreadSubscriptionsRepository } from '@chat/shared/repositories/threads';
import { pageAfter, pageAround, pageBefore } from './history/pager.ts';
import { threadSource } from './history/thread-stream.ts';
import { countersAt, unreadFrom } from './reads.service.ts';

/** A thread's unread replies for a user: others' replies after their thread position (all, if never read). */
export const threadUnread = (state: ThreadState, userId: string, sub: ThreadSubscription | null): number =>
  unreadFrom({ count: state.replyCount, sent: state.sent[userId] ?? 0 }, sub ? { count: sub.readCount, sent: sub.readSent } : undefined);

/** Whether a message may root a thread: a top-level user message (not a reply, not a system record). */
export const canRootThread = (m: Message) => m.threadRootId === null && m.kind !== 'system';

/**
 * Threads as users see them: pages of a thread's replies, following, the thread read position
 * (the db function is its only writer, as for conversations) and the list of followed threads.
 * Every read is an equality or an _id lookup; outsiders get 404 for the thread and its replies.
 */
export class ThreadsService {
  constructor(
    private readonly deps: {
      conversations: ConversationsRepository;
      messages: MessagesRepository;
      chunks: ChunksRepository;
      subscriptions: ThreadSubscriptionsRepository;
      announce: (e: ReadEvent) => void;
    },
  ) {}

  async page(
    callerId: string,
    conversationId: string,
    rootId: string,
    q: { before?: string | undefined; after?: string | undefined; around?: string | undefined; limit: number },
  ): Promise<ThreadPage | ThreadAroundPage> {
    const { root, state } = await this.thread(callerId, conversationId, rootId);
    const src = threadSource(conversationId, rootId, state, this.deps);
    if (q.around) {
      const found = await this.deps.messages.findWithThreadChunk(q.around);
      if (!found || found.message.threadRootId !== rootId || found.message.conversationId !== conversationId) throw errors.notFound('Message');
      return { root, ...(await pageAround(src, found.message, found.chunk ?? (await src.locate(q.around)), q.limit)) };
    }
    return { root, ...(q.after ? await pageAfter(src, q.after, q.limit) : await pageBefore(src, q.before, q.limit)) };
  }

  async view(callerId: string, conversationId: string, rootId: string): Promise<ThreadView> {
    const { root, state } = await this.thread(callerId, conversationId, rootId);
    return present(callerId, root, state, await this.deps.subscriptions.get(callerId, conversationId, rootId));
  }

  async follow(callerId: string, conversationId: string, rootId: string, following: boolean): Promise<void> {
    await this.thread(callerId, conversationId, rootId);
    await this.deps.subscriptions.setFollowing(callerId, conversationId, rootId, following);
  }

  /**
   * The caller's followed threads in conversations they are still in, newest reply first
   * (unreadOnly: those with unread replies). Cost: two equality reads (the caller's threads and
   * conversations), then each followed root by _id, in parallel.
   */
  async list(callerId: string, unreadOnly: boolean): Promise<ThreadView[]> {
    const [subs, convIds] = await Promise.all([this.deps.subscriptions.forUser(callerId), this.deps.conversations.idsForMember(callerId)]);
    const member = new Set(convIds);
    const followed = subs.filter((s) => s.following === true && member.has(s.conversationId));
    const roots = await Promise.all(followed.map((s) => this.deps.messages.findThreadRoot(s.rootId)));
    const views = followed.flatMap((s, i) => {
      const r = roots[i];
      return r && r.message.conversationId === s.conversationId ? [present(callerId, r.message, r.state, s)] : [];
    });
    const last = (v: ThreadView) => v.root.thread?.lastReplyAt ?? v.root.createdAt;
    return views.filter((v) => !unreadOnly || v.unreadCount > 0).sort((a, b) => (last(a) < last(b) ? 1 : last(a) > last(b) ? -1 : 0));
  }

  /** POST …/threads/:rootId/read: 404 unless messageId is a stored reply of the thread. */
  async markReadFor(callerId: string, conversationId: string, rootId: string, messageId: string): Promise<void> {
    const { conv, root, state } = await this.thread(callerId, conversationId, rootId);
    if ((await this.markRead(conv, callerId, rootId, messageId, { message: root, state })) === 'missing') throw errors.notFound('Message');
  }

  /**
   * Moves the user's thread position forward to a reply of the thread; 'missing' when it is not a
   * stored reply of it (the bus path retries that later). Announced like a conversation's read.
   * `known`: the root as the caller just read it (the HTTP route has), so it is not read twice.
   */
  async markRead(
    conv: ConversationRecord,
    userId: string,
    rootId: string,
    messageId: string,
    known?: { message: Message; state: ThreadState },
  ): Promise<'moved' | 'unchanged' | 'missing'> {
    const [found, root] = await Promise.all([this.deps.messages.findWithThreadChunk(messageId), known ?? this.deps.messages.findThreadRoot(rootId)]);
    if (!found || !root || found.message.threadRootId !== rootId || found.message.conversationId !== conv.id) return 'missing';
    const { state } = root;
    const src = threadSource(conv.id, rootId, state, this.deps);
    const at = await countersAt(src, found.message, found.chunk, userId, { count: state.replyCount, sent: state.sent[userId] ?? 0, last: state.lastReplyId ?? '' });
    if (!(await this.deps.subscriptions.advanceRead(userId, conv.id, rootId, { readId: messageId, readCount: at.count, readSent: at.sent }))) return 'unchanged';
    this.deps.announce({ conversationId: conv.id, userId, messageId, threadRootId: rootId });
    return 'moved';
  }

  /** The caller's conversation and the thread's root: 404 for outsiders and for anything that cannot root a thread. */
  private async thread(callerId: string, conversationId: string, rootId: string): Promise<{ conv: ConversationRecord; root: Message; state: ThreadState }> {
    const conv = await this.deps.conversations.findForMember(conversationId, callerId);
    if (!conv) throw errors.notFound('Conversation');
    const found = await this.deps.messages.findThreadRoot(rootId);
    if (!found || found.message.conversationId !== conv.id || !canRootThread(found.message)) throw errors.notFound('Thread');
    return { conv, root: found.message, state: found.state };
  }
}

function present(userId: string, root: Message, state: ThreadState, sub: ThreadSubscription | null): ThreadView {
  return { conversationId: root.conversationId, root, unreadCount: threadUnread(state, userId, sub), following: sub?.following === true, lastReadId: sub?.readId ?? null };
}

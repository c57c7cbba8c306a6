import { errors } from '@chat/shared/errors';
import { ROUTING_KEYS, type BusEvents, type MessageSupersededEvent, type RoutingKey } from '@chat/shared/events/bus';
import { busEventSchemas, isRoutingKey } from '@chat/shared/events/schemas';
import type { Logger } from '@chat/shared/log';
import { mentionedOthers } from '@chat/shared/mentions/mentions';
import { describeIssue } from '@chat/shared/models/validation';
import type { Message } from '@chat/shared/models/types';
import type { ConversationsRepository } from '@chat/shared/repositories/conversations';
import { asStored, threadStream, type MessagePlacement, type MessagesRepository, type StreamTouch } from '@chat/shared/repositories/messages';
import type { ThreadSubscriptionsRepository } from '@chat/shared/repositories/threads';
import type { ChunkPlacer } from './history/placer.ts';
import type { ReadsService } from './reads.service.ts';
import type { ThreadsService } from './threads.service.ts';
import { TouchCoalescer } from './touch-coalescer.ts';

/** Routing keys this function stores; the rest of the bus is not its business. */
const HANDLED = new Set<string>([ROUTING_KEYS.messageCreated, ROUTING_KEYS.messageUpdated, ROUTING_KEYS.messageDeleted, ROUTING_KEYS.messageRead]);

export type ParsedEvent = { [K in RoutingKey]: { topic: K; event: BusEvents[K] } }[RoutingKey];

/** Validates a raw {topic, event}; null for topics this function ignores. Throws invalid_request. */
export function parseEvent(topic: string, raw: unknown, where = ''): ParsedEvent | null {
  if (!HANDLED.has(topic) || !isRoutingKey(topic)) return null;
  const parsed = busEventSchemas[topic].safeParse(raw);
  if (!parsed.success) throw errors.invalid(`${where}${topic}: ${describeIssue(parsed.error)}`);
  return { topic, event: parsed.data } as ParsedEvent;
}

/**
 * Applies bus events to the store. Every operation is idempotent, so the connector can redeliver
 * any event or a whole batch after a failure and nothing is applied twice.
 */
export class EventsService {
  private readonly touches: TouchCoalescer;
  /** Thread roots' summaries and open chunks, one write per root at a time, as for conversations. */
  private readonly threadTouches: TouchCoalescer;

  constructor(
    private readonly deps: {
      messages: MessagesRepository;
      conversations: ConversationsRepository;
      placer: ChunkPlacer;
      /** Places thread replies in their thread's stream ("<conversationId>/<rootId>"). */
      threadPlacer: ChunkPlacer;
      reads: ReadsService;
      threads: ThreadsService;
      subscriptions: ThreadSubscriptionsRepository;
      /** A root whose summary may have moved (published as conversation.thread.updated). */
      announceThread: (root: Message) => void;
      /**
       * A message turned away because its (sender, clientMsgId) is stored under another id. Awaited
       * (confirmed): a failure fails the call, and the redelivery finds the same conflict again.
       */
      announceSuperseded: (e: MessageSupersededEvent) => Promise<void>;
      log: Logger;
    },
  ) {
    this.touches = new TouchCoalescer((id, t) => deps.conversations.touchLastMessage(id, t));
    this.threadTouches = new TouchCoalescer((id, t) => deps.messages.touchThread(id, t));
  }

  /**
   * Applies the events in order, except that every message.created of the batch is stored first in
   * one insertMany (the throughput path). An update or delete for a message not stored yet throws
   * `unavailable`, which tells the connector to deliver again later. Thread roots whose summary
   * moved are announced last, so the root sent out has every change of the batch.
   */
  async apply(events: ParsedEvent[]): Promise<{ stored: number }> {
    const created = events.flatMap((e) => (e.topic === ROUTING_KEYS.messageCreated ? [e.event.message] : []));
    const { stored, threads } = await this.storeMessages(created);
    for (const e of events) {
      if (e.topic === ROUTING_KEYS.messageUpdated) await this.update(e.event);
      else if (e.topic === ROUTING_KEYS.messageDeleted) await this.remove(e.event);
      else if (e.topic === ROUTING_KEYS.messageRead) await this.read(e.event);
    }
    await this.afterReplies(threads);
    return { stored };
  }

  /**
   * Per stream (a conversation's channel, a thread's replies): chunks first (the placer inserts
   * any chunk it opens before a message names it), then one insertMany for the batch, then one
   * coalesced write per conversation and per thread root that moves its last message, adds the
   * fresh inserts to its counters and records its open chunk. A reply without its root stored
   * (nor in the batch) stores nothing of the batch: it is delivered again once the root is.
   */
  private async storeMessages(messages: Message[]): Promise<{ stored: number; threads: StoredReplies[] }> {
    if (messages.length === 0) return { stored: 0, threads: [] };
    const byConversation = groupBy(messages, (m) => (!m.threadRootId || m.alsoToChannel ? m.conversationId : null));
    const byThread = groupBy(messages, (m) => (m.threadRootId ? threadStream(m.conversationId, m.threadRootId) : null));
    const inBatch = new Set(messages.map((m) => m.id));
    await Promise.all(
      [...byThread.values()].map(async ([first]) => {
        const rootId = messages[first!]!.threadRootId!;
        if (!inBatch.has(rootId) && !(await this.deps.messages.findById(rootId))) throw notStoredYet(rootId);
      }),
    );
    const placements: MessagePlacement[] = messages.map(() => ({}));
    const place = (placer: ChunkPlacer, groups: Map<string, number[]>, field: keyof MessagePlacement) =>
      [...groups].map(async ([stream, idx]) => {
        const placed = await placer.place(stream, idx.map((i) => messages[i]!.id));
        idx.forEach((i, k) => (placements[i]![field] = placed.chunks[k]!));
        return [stream, placed.open] as const;
      });
    const [open, threadOpen] = await Promise.all([
      Promise.all(place(this.deps.placer, byConversation, 'chunk')).then((e) => new Map(e)),
      Promise.all(place(this.deps.threadPlacer, byThread, 'threadChunk')).then((e) => new Map(e)),
    ]);
    // Each message carries its search keys, so the batch is indexed by the same insertMany.
    const fresh = new Set(await this.deps.messages.insertIdempotent(messages, placements));
    const turnedAway = fresh.size === messages.length ? [] : await this.storedInstead(messages.filter((m) => !fresh.has(m.id)));
    // A dropped message keeps its chunk slot, as a redelivered duplicate does (the open chunk may
    // close one message early), but it is nobody's last message: its id is never stored.
    const dropped = new Set(turnedAway.map((t) => t.dropped.id));
    const superseded = turnedAway.flatMap(({ dropped: m, kept }) => {
      const e = supersession(m, kept);
      if (!e) this.deps.log.warn('a message turned away by the unique clientMsgId index is not announced', { conversationId: m.conversationId, messageId: m.id, keptElsewhere: kept !== null });
      return e ? [e] : [];
    });
    // Touch even for redelivered messages: a crash may have come between the insert and this.
    // The counters add only what this call stored, so a redelivery counts nothing twice.
    // A conversation's record also keeps a copy of its last message (docs/storage.md).
    const touch = (coalescer: TouchCoalescer, key: string, idx: readonly number[], open: StreamTouch['open'], withLast: boolean) => {
      const found = freshCounts(messages, idx, fresh, dropped);
      if (!found) return Promise.resolve();
      const { newest, ...counts } = found;
      return coalescer.touch(key, { ...counts, open, ...(withLast ? { last: asStored(newest) } : {}) });
    };
    await Promise.all([
      ...[...byConversation].map(([conv, idx]) => touch(this.touches, conv, idx, open.get(conv), true)),
      ...[...byThread].map(([stream, idx]) => touch(this.threadTouches, messages[idx[0]!]!.threadRootId!, idx, threadOpen.get(stream), false)),
    ]);
    await Promise.all(superseded.map((e) => this.deps.announceSuperseded(e)));
    const threads = [...byThread.values()].map((idx) => {
      const replies = idx.map((i) => messages[i]!).filter((m) => fresh.has(m.id));
      return { conversationId: messages[idx[0]!]!.conversationId, rootId: messages[idx[0]!]!.threadRootId!, replies };
    });
    return { stored: fresh.size, threads };
  }

  /**
   * Of the messages the insert turned away, those whose own id is not stored (the unique
   * (sender, clientMsgId) index turned them away), with what the store holds for that pair. Only
   * this path reads: one _id read per message turned away (a redelivery finds its own), and the
   * unique pair for the rest.
   */
  private async storedInstead(turnedAway: Message[]): Promise<Array<{ dropped: Message; kept: Message | null }>> {
    const { messages } = this.deps;
    const found = await Promise.all(
      turnedAway.map(async (m) => ((await messages.exists(m.id)) ? null : { dropped: m, kept: await messages.findBySenderAndClientMsgId(m.senderId, m.clientMsgId) })),
    );
    return found.filter((f) => f !== null);
  }

  /**
   * Follows (the repliers and whoever a reply mentions; the root's author unless they decided
   * before), then the root as it is now to every gateway, which relays it as message:updated.
   * Redelivered replies follow nobody again but still announce the root (a crash may have come
   * before the announcement; clients take the same root twice without harm).
   */
  private async afterReplies(threads: StoredReplies[]): Promise<void> {
    const { messages, subscriptions, announceThread } = this.deps;
    await Promise.all(
      threads.map(async ({ conversationId, rootId, replies }) => {
        const found = await messages.findWithRev(rootId);
        if (!found) return;
        const root = found.message;
        // The root's summary moved: the conversation's copy follows when the root is its last message.
        await this.refreshLast(rootId, found);
        const forced = new Set(replies.flatMap((m) => [m.senderId, ...m.mentions]));
        await Promise.all([
          ...[...forced].map((u) => subscriptions.setFollowing(u, conversationId, rootId, true)),
          ...(replies.length && !forced.has(root.senderId) ? [subscriptions.followIfUndecided(root.senderId, conversationId, rootId)] : []),
        ]);
        announceThread(root);
      }),
    );
  }

  /** The socket's `read`: applied like POST /read; not stored yet → retried; not a member → dropped. */
  private async read(e: BusEvents['message.read']): Promise<void> {
    const conv = await this.deps.conversations.findForMember(e.conversationId, e.userId);
    if (!conv) {
      this.deps.log.info('dropping a read of a conversation the user is not in', { conversationId: e.conversationId });
      return;
    }
    const moved = e.threadRootId ? await this.deps.threads.markRead(conv, e.userId, e.threadRootId, e.messageId) : await this.deps.reads.markRead(conv, e.userId, e.messageId);
    if (moved === 'missing') throw notStoredYet(e.messageId);
  }

  private async update(e: BusEvents['message.updated']): Promise<void> {
    const { messages } = this.deps;
    if (e.kind === 'edit') {
      // The update replaces the search keys with the body (one write, nothing to heal).
      const r = await messages.applyEditIfNewer(e.messageId, e.conversationId, e.body, new Date(e.editedAt), e.mentions);
      if (r === 'missing') throw notStoredYet(e.messageId);
    } else if (!(await messages.applyReactionAtomic(e.messageId, e.emoji, e.userId, e.op))) throw notStoredYet(e.messageId);
    await this.refreshLast(e.messageId);
  }

  private async remove(e: BusEvents['message.deleted']): Promise<void> {
    if (!(await this.deps.messages.applyDelete(e.messageId, new Date(e.deletedAt)))) throw notStoredYet(e.messageId);
    await this.refreshLast(e.messageId);
  }

  /**
   * After a change of a stored message: if it is its conversation's last message, the record's
   * copy takes the message as it is now (read after the change, with its rev). A message whose
   * batch has not moved the conversation to it yet answers `unavailable`: the change is delivered
   * again (it is idempotent) once that write has landed, so the copy cannot keep the unchanged one.
   */
  private async refreshLast(messageId: string, found?: { message: Message; rev: number } | null): Promise<void> {
    const current = found === undefined ? await this.deps.messages.findWithRev(messageId) : found;
    // A reply kept in its thread is never a conversation's last message.
    if (!current || (current.message.threadRootId && !current.message.alsoToChannel)) return;
    if ((await this.deps.conversations.refreshLastMessage(current.message.conversationId, current.message, current.rev)) === 'behind')
      throw errors.unavailable(`Conversation ${current.message.conversationId} has not reached message ${messageId} yet; deliver again later.`);
  }
}

interface StoredReplies {
  conversationId: string;
  rootId: string;
  /** The replies this call stored (fresh inserts only). */
  replies: Message[];
}

/** Indexes of the items by key (items whose key is null are left out), in order. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | null): Map<string, number[]> {
  const out = new Map<string, number[]>();
  items.forEach((item, i) => {
    const k = keyOf(item);
    if (k === null) return;
    const list = out.get(k);
    if (list) list.push(i);
    else out.set(k, [i]);
  });
  return out;
}

/**
 * What the store tells about a message it turned away and the one it holds for the same sender and
 * clientMsgId: null when that is the message itself (a redelivery) or nothing; also null when the
 * kept one is in another conversation (a client that reused a clientMsgId there): announcing it to
 * this conversation would show it to people who are not its members.
 */
export function supersession(dropped: Message, kept: Message | null): MessageSupersededEvent | null {
  if (!kept || kept.id === dropped.id || kept.conversationId !== dropped.conversationId) return null;
  return { conversationId: dropped.conversationId, messageId: dropped.id, message: kept };
}

/**
 * A stream's part of a batch: its newest stored message (the conversation's copy of its last
 * message is taken from it), and the fresh inserts in all and per sender; null when every message
 * of it was dropped (nothing of it is stored).
 */
function freshCounts(messages: readonly Message[], idx: readonly number[], fresh: ReadonlySet<string>, dropped: ReadonlySet<string> = new Set()) {
  let newest: Message | undefined;
  const sent: Record<string, number> = {};
  const mentioned: Record<string, number> = {};
  let stored = 0;
  let system = 0;
  for (const i of idx) {
    const m = messages[i]!;
    if (dropped.has(m.id)) continue;
    if (!newest || m.id > newest.id) newest = m;
    if (!fresh.has(m.id)) continue;
    stored++;
    // A system message is nobody's unread (docs/groups.md): counted apart, not as its actor's.
    if (m.kind === 'system') {
      system++;
      continue;
    }
    sent[m.senderId] = (sent[m.senderId] ?? 0) + 1;
    for (const u of mentionedOthers(m)) mentioned[u] = (mentioned[u] ?? 0) + 1;
  }
  if (!newest) return null;
  return { newest, messageId: newest.id, at: new Date(newest.createdAt), stored, sent, mentioned, system };
}

const notStoredYet = (id: string) => errors.unavailable(`Message ${id} is not stored yet; deliver again later.`);

import { errors } from '@chat/shared/errors';
import { ROUTING_KEYS, type BusEvents, type RoutingKey } from '@chat/shared/events/bus';
import { busEventSchemas, isRoutingKey } from '@chat/shared/events/schemas';
import type { Logger } from '@chat/shared/log';
import { describeIssue } from '@chat/shared/models/validation';
import type { Message } from '@chat/shared/models/types';
import type { ConversationsRepository } from '@chat/shared/repositories/conversations';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import type { ChunkPlacer } from './history/placer.ts';
import type { ReadsService } from './reads.service.ts';
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

  constructor(
    private readonly deps: { messages: MessagesRepository; conversations: ConversationsRepository; placer: ChunkPlacer; reads: ReadsService; log: Logger },
  ) {
    this.touches = new TouchCoalescer((id, t) => deps.conversations.touchLastMessage(id, t));
  }

  /**
   * Applies the events in order, except that every message.created of the batch is stored first in
   * one insertMany (the throughput path). An update or delete for a message not stored yet throws
   * `unavailable`, which tells the connector to deliver again later.
   */
  async apply(events: ParsedEvent[]): Promise<{ stored: number }> {
    const created = events.flatMap((e) => (e.topic === ROUTING_KEYS.messageCreated ? [e.event.message] : []));
    const stored = await this.storeMessages(created);
    for (const e of events) {
      if (e.topic === ROUTING_KEYS.messageUpdated) await this.update(e.event);
      else if (e.topic === ROUTING_KEYS.messageDeleted) await this.remove(e.event);
      else if (e.topic === ROUTING_KEYS.messageRead) await this.read(e.event);
    }
    return { stored };
  }

  /**
   * Per conversation: chunks first (the placer inserts any chunk it opens before a message names
   * it), then one insertMany for the batch, then one coalesced write per conversation that moves
   * its last message, adds the fresh inserts to its counters and records its open chunk.
   */
  private async storeMessages(messages: Message[]): Promise<number> {
    if (messages.length === 0) return 0;
    const byConversation = new Map<string, number[]>();
    messages.forEach((m, i) => {
      const list = byConversation.get(m.conversationId);
      if (list) list.push(i);
      else byConversation.set(m.conversationId, [i]);
    });
    const chunks = new Array<number>(messages.length);
    const open = new Map<string, { no: number; start: string; base: number }>();
    await Promise.all(
      [...byConversation].map(async ([conv, idx]) => {
        const placed = await this.deps.placer.place(conv, idx.map((i) => messages[i]!.id));
        idx.forEach((i, k) => (chunks[i] = placed.chunks[k]!));
        open.set(conv, placed.open);
      }),
    );
    // Each message carries its search keys, so the batch is indexed by the same insertMany.
    const stored = await this.deps.messages.insertIdempotent(messages, chunks);
    const fresh = new Set(stored);
    // Touch even for redelivered messages: a crash may have come between the insert and this.
    // The counters add only what this call stored, so a redelivery counts nothing twice.
    await Promise.all(
      [...byConversation.values()].map((idx) => {
        let newest = messages[idx[0]!]!;
        const sent: Record<string, number> = {};
        let stored = 0;
        let system = 0;
        for (const i of idx) {
          const m = messages[i]!;
          if (m.id > newest.id) newest = m;
          if (!fresh.has(m.id)) continue;
          stored++;
          // A system message is nobody's unread (docs/groups.md): counted apart, not as its actor's.
          if (m.kind === 'system') system++;
          else sent[m.senderId] = (sent[m.senderId] ?? 0) + 1;
        }
        return this.touches.touch(newest.conversationId, { messageId: newest.id, at: new Date(newest.createdAt), stored, sent, system, open: open.get(newest.conversationId) });
      }),
    );
    return fresh.size;
  }

  /** The socket's `read`: applied like POST /read; not stored yet → retried; not a member → dropped. */
  private async read(e: BusEvents['message.read']): Promise<void> {
    const conv = await this.deps.conversations.findForMember(e.conversationId, e.userId);
    if (!conv) {
      this.deps.log.info('dropping a read of a conversation the user is not in', { conversationId: e.conversationId });
      return;
    }
    if ((await this.deps.reads.markRead(conv, e.userId, e.messageId)) === 'missing') throw notStoredYet(e.messageId);
  }

  private async update(e: BusEvents['message.updated']): Promise<void> {
    const { messages } = this.deps;
    if (e.kind === 'edit') {
      // The update replaces the search keys with the body (one write, nothing to heal).
      const r = await messages.applyEditIfNewer(e.messageId, e.conversationId, e.body, new Date(e.editedAt));
      if (r === 'missing') throw notStoredYet(e.messageId);
    } else if (!(await messages.applyReactionAtomic(e.messageId, e.emoji, e.userId, e.op))) throw notStoredYet(e.messageId);
  }

  private async remove(e: BusEvents['message.deleted']): Promise<void> {
    if (!(await this.deps.messages.applyDelete(e.messageId, new Date(e.deletedAt)))) throw notStoredYet(e.messageId);
  }
}

const notStoredYet = (id: string) => errors.unavailable(`Message ${id} is not stored yet; deliver again later.`);

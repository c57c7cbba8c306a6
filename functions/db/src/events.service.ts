import { errors } from '@chat/shared/errors';
import { ROUTING_KEYS, type BusEvents, type RoutingKey } from '@chat/shared/events/bus';
import { busEventSchemas, isRoutingKey } from '@chat/shared/events/schemas';
import type { Logger } from '@chat/shared/log';
import { describeIssue } from '@chat/shared/models/validation';
import type { Message } from '@chat/shared/models/types';
import type { ConversationsRepository } from '@chat/shared/repositories/conversations';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import type { SearchIndexRepository } from '@chat/shared/repositories/search';
import { TouchCoalescer } from './touch-coalescer.ts';

/** Routing keys this function stores; the rest of the bus is not its business. */
const HANDLED = new Set<string>([ROUTING_KEYS.messageCreated, ROUTING_KEYS.messageUpdated, ROUTING_KEYS.messageDeleted]);

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

  constructor(private readonly deps: { messages: MessagesRepository; conversations: ConversationsRepository; search: SearchIndexRepository; log: Logger }) {
    this.touches = new TouchCoalescer((id, messageId, at) => deps.conversations.touchLastMessage(id, messageId, at));
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
    }
    return { stored };
  }

  private async storeMessages(messages: Message[]): Promise<number> {
    if (messages.length === 0) return 0;
    // The batch's search entries go in one insertMany beside the messages' (duplicates ignored,
    // so a redelivered batch indexes nothing twice); an entry whose message was refused is never
    // found, as search reads every result by id.
    const [fresh] = await Promise.all([this.deps.messages.insertIdempotent(messages), this.deps.search.indexMany(messages)]);
    // Touch even for redelivered messages: a crash may have come between the insert and this.
    const newest = new Map<string, Message>();
    for (const m of messages) {
      const cur = newest.get(m.conversationId);
      if (!cur || cur.id < m.id) newest.set(m.conversationId, m);
    }
    await Promise.all([...newest.values()].map((m) => this.touches.touch(m.conversationId, m.id, new Date(m.createdAt))));
    return fresh.length;
  }

  private async update(e: BusEvents['message.updated']): Promise<void> {
    const { messages } = this.deps;
    if (e.kind === 'edit') {
      const r = await messages.applyEditIfNewer(e.messageId, e.body, new Date(e.editedAt));
      if (r === 'missing') throw notStoredYet(e.messageId);
      // Re-indexed on every applied delivery, so a crash between the two writes heals on redelivery.
      if (r === 'applied') await this.deps.search.reindex({ id: e.messageId, conversationId: e.conversationId, body: e.body, editedAt: e.editedAt });
    } else if (!(await messages.applyReactionAtomic(e.messageId, e.emoji, e.userId, e.op))) throw notStoredYet(e.messageId);
  }

  private async remove(e: BusEvents['message.deleted']): Promise<void> {
    if (!(await this.deps.messages.applyDelete(e.messageId, new Date(e.deletedAt)))) throw notStoredYet(e.messageId);
    await this.deps.search.remove(e.messageId);
  }
}

const notStoredYet = (id: string) => errors.unavailable(`Message ${id} is not stored yet; deliver again later.`);

import { eachLimit } from '@chat/shared/concurrency';
import { errors } from '@chat/shared/errors';
import type { Message } from '@chat/shared/models/types';
import type { ConversationsRepository } from '@chat/shared/repositories/conversations';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import { matches, parseQuery, termKey, termsCover } from '@chat/shared/search/terms';

export interface SearchFilters {
  conversationId?: string;
  from?: string;
  since?: string;
  until?: string;
}

const inFilters = (m: Message, f: SearchFilters) =>
  (!f.from || m.senderId === f.from) && (!f.since || m.createdAt >= f.since) && (!f.until || m.createdAt < f.until);

/** Index lookups in flight at once for a caller in many conversations. */
const LOOKUPS_AT_ONCE = 8;

/**
 * Message search over the messages' own search keys (docs/search.md). Its cost follows the
 * caller's conversations (one equality lookup each) and the matches, never the size of the store.
 * Only conversations the caller is a member of now are searched.
 */
export class SearchService {
  constructor(
    private readonly deps: {
      conversations: ConversationsRepository;
      messages: MessagesRepository;
      limit: number;
    },
  ) {}

  /**
   * At most `limit` messages matching every word of `text` (by word prefix), newest first. The
   * filters narrow the key hits already read (no other lookup): `from` a sender, sent in
   * [`since`, `until`) (ISO instants, compared as the stored `createdAt` strings).
   */
  async search(callerId: string, text: string, filters: SearchFilters = {}): Promise<Message[]> {
    const { conversationId } = filters;
    const { conversations, messages, limit } = this.deps;
    let ids: string[];
    if (conversationId) {
      if (!(await conversations.findForMember(conversationId, callerId))) throw errors.notFound('Conversation');
      ids = [conversationId];
    } else ids = await conversations.idsForMember(callerId);
    const query = parseQuery(text);
    if (!query.lookup || ids.length === 0) return [];

    // The keys rule out a multi-word query's misses cheaply; the text then decides what they
    // cannot (one-letter words, words past the prefix cap, a hash collision).
    const found: Message[] = [];
    await eachLimit(ids, LOOKUPS_AT_ONCE, async (conv) => {
      for (const { message, keys } of await messages.findBySearchTerm(conv, query.lookup!)) {
        if (inFilters(message, filters) && termsCover((t) => keys.has(termKey(conv, t)), query) && matches(message.body, query)) found.push(message);
      }
    });
    found.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return found.slice(0, limit);
  }
}

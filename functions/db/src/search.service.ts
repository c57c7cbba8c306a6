import { eachLimit } from '@chat/shared/concurrency';
import { errors } from '@chat/shared/errors';
import type { Message } from '@chat/shared/models/types';
import type { ConversationsRepository } from '@chat/shared/repositories/conversations';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import type { SearchIndexRepository } from '@chat/shared/repositories/search';
import { matches, parseQuery, termKey, termsCover } from '@chat/shared/search/terms';

/** Index lookups in flight at once for a caller in many conversations. */
const LOOKUPS_AT_ONCE = 8;

/**
 * Message search over the term index (docs/search.md). Its cost follows the caller's
 * conversations (one equality lookup each) and the matches (one `_id` read per result), never the
 * size of the store. Only conversations the caller is a member of now are searched.
 */
export class SearchService {
  constructor(
    private readonly deps: {
      conversations: ConversationsRepository;
      messages: MessagesRepository;
      index: SearchIndexRepository;
      limit: number;
    },
  ) {}

  /** At most `limit` messages matching every word of `text` (by word prefix), newest first. */
  async search(callerId: string, text: string, conversationId?: string): Promise<Message[]> {
    const { conversations, messages, index, limit } = this.deps;
    let ids: string[];
    if (conversationId) {
      if (!(await conversations.findForMember(conversationId, callerId))) throw errors.notFound('Conversation');
      ids = [conversationId];
    } else ids = await conversations.idsForMember(callerId);
    const query = parseQuery(text);
    if (!query.lookup || ids.length === 0) return [];

    const candidates: Array<{ messageId: string; conversationId: string }> = [];
    const multiWord = query.words.length > 1;
    await eachLimit(ids, LOOKUPS_AT_ONCE, async (conv) => {
      for (const hit of await index.lookup(conv, query.lookup!, multiWord)) {
        const keys = hit.keys;
        if (!keys || termsCover((t) => keys.has(termKey(conv, t)), query)) candidates.push({ messageId: hit.messageId, conversationId: conv });
      }
    });
    candidates.sort((a, b) => (a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0));

    // Newest first, a window at a time: the text decides what the index cannot (one-letter words,
    // words past the prefix cap), and an entry left by a race with a delete is dropped here.
    const found: Message[] = [];
    for (let i = 0; i < candidates.length && found.length < limit; i += limit) {
      const window = candidates.slice(i, i + limit);
      const read = await Promise.all(window.map((c) => messages.findById(c.messageId)));
      read.forEach((m, j) => {
        if (m && !m.deletedAt && m.conversationId === window[j]!.conversationId && matches(m.body, query) && found.length < limit) found.push(m);
      });
    }
    return found;
  }
}

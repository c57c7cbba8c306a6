import { errors } from '@chat/shared/errors';
import type { Message } from '@chat/shared/models/types';
import type { ChunksRepository } from '@chat/shared/repositories/chunks';
import type { ConversationsRepository, SearchScope } from '@chat/shared/repositories/conversations';
import type { MessagesRepository, SearchHit } from '@chat/shared/repositories/messages';
import { matches, parseQuery, type ParsedQuery, scopeKeys, termsCover } from '@chat/shared/search/terms';
import { CHUNK_SIZE } from './history/chunker.ts';

export interface SearchFilters {
  conversationId?: string | undefined;
  from?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

const inFilters = (m: Message, f: SearchFilters) =>
  (!f.from || m.senderId === f.from) && (!f.since || m.createdAt >= f.since) && (!f.until || m.createdAt < f.until);

/** Index lookups in flight at once. */
const LOOKUPS_AT_ONCE = 8;
/** Most chunks of one conversation read in one round (the width doubles while a word is sparse). */
const WIDTH_MAX = 8;

/** Which page of results: `before` (a message id) answers only older matches, for "more results". */
export interface SearchPage {
  before?: string;
}

/**
 * Where one conversation's search stands. Chunk `next` and older are unread; every id in them is
 * below `below` (chunk n holds the ids in [start_n, start_{n+1}), docs/storage.md).
 */
interface Cursor {
  scope: SearchScope;
  next: number;
  below: string;
  width: number;
  /** Of the chunks read so far: documents their lookups returned, and how many matched. */
  candidates: number;
  matched: number;
  chunksRead: number;
  /** The rest is read by one conversation-wide lookup: the word is rare enough here. */
  whole: boolean;
  done: boolean;
}

/** Above every message id (ids are 24 hex digits). */
const TOP = '~';
/** What one more lookup costs, in documents read (a FerretDB round trip is worth a few). */
const LOOKUP_COST = 10;

/**
 * Message search over the messages' own search keys (docs/search.md). Its cost follows the
 * caller's conversations and the page it answers, never the size of the store:
 * - each conversation is read newest chunk first ({chunkId, searchKeys}), and a conversation whose
 *   unread chunks all hold ids below the page's oldest result is not read any further, so a word
 *   in every message costs about one chunk of the newest conversation;
 * - once a conversation's chunks read so far say that reading the rest of it by its
 *   conversation-wide key (every match in it: a rare word) costs less than reading chunks until
 *   a page is found, it does that in one lookup, so a rare word costs about two lookups per
 *   conversation, not one per chunk.
 * Only conversations the caller is a member of now are searched.
 */
export class SearchService {
  constructor(
    private readonly deps: {
      conversations: ConversationsRepository;
      messages: MessagesRepository;
      chunks: ChunksRepository;
      limit: number;
    },
  ) {}

  /**
   * At most `limit` messages matching every word of `text` (by word prefix), newest first; with
   * `page.before`, those older than that message id (the next page: pass the last id answered).
   */
  async search(callerId: string, text: string, filters: SearchFilters = {}, page: SearchPage = {}): Promise<Message[]> {
    const { conversationId } = filters;
    const { conversations, limit } = this.deps;
    let scopes: SearchScope[];
    if (conversationId) {
      const c = await conversations.findForMember(conversationId, callerId);
      if (!c) throw errors.notFound('Conversation');
      scopes = [{ id: c.id, open: c.chunk.no, msgCount: c.msgCount, lastMessageId: c.lastMessageId }];
    } else scopes = await conversations.searchScopesForMember(callerId);
    const query = parseQuery(text);
    if (!query.lookup || scopes.length === 0) return [];
    const before = page.before ?? TOP;

    const found = new Map<string, Message>();
    const cursors = await Promise.all(scopes.map((s) => this.cursor(s, before)));
    // The id the page's oldest result has once `limit` are known: nothing below it is wanted.
    const floor = () => (found.size < limit ? null : [...found.keys()].sort().reverse()[limit - 1]!);
    for (;;) {
      const bound = floor();
      const open = cursors.filter((c) => !c.done && (bound === null || c.below > bound));
      if (open.length === 0) break;
      // Newest ranges first: they are the ones that can still change the page.
      open.sort((a, b) => (a.below < b.below ? 1 : a.below > b.below ? -1 : 0));
      let budget = LOOKUPS_AT_ONCE;
      const round: Cursor[] = [];
      for (const c of open) {
        if (budget <= 0) break;
        round.push(c);
        budget -= c.whole ? 1 : Math.min(c.width, c.next + 1);
      }
      await Promise.all(round.map((c) => this.advance(c, query, before, found, filters)));
    }
    return [...found.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, limit);
  }

  /**
   * A conversation's starting point: its open chunk, or the chunk holding `before`. Its newest
   * message bounds it, so a conversation quiet for longer than the page reaches back is never
   * read. (Messages stored in the last milliseconds, before the conversation's last message
   * moves, are missed by the same few milliseconds as in the conversation list.)
   */
  private async cursor(scope: SearchScope, before: string): Promise<Cursor> {
    // Just above the last id: ids have one length, so every later id sorts above this.
    const newest = scope.lastMessageId === null ? TOP : `${scope.lastMessageId}${TOP}`;
    const c: Cursor = { scope, next: scope.open, below: newest < before ? newest : before, width: 1, candidates: 0, matched: 0, chunksRead: 0, whole: scope.open === 0, done: false };
    if (before !== TOP && scope.open > 0) c.next = await this.chunkHolding(scope, before);
    return c;
  }

  /** The newest chunk whose start is at or below `id` (a binary search over the chunk starts, which are cached). */
  private async chunkHolding(scope: SearchScope, id: string): Promise<number> {
    let lo = 0;
    let hi = scope.open;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((await this.deps.chunks.startOf(scope.id, mid)) <= id) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Reads a conversation's next chunks (or its rest at once) and keeps their matches. */
  private async advance(c: Cursor, query: ParsedQuery, before: string, found: Map<string, Message>, filters: SearchFilters): Promise<void> {
    const { messages, chunks, limit } = this.deps;
    const conv = c.scope.id;
    // The conversation's share of every key is hashed once, not once per candidate and word.
    const keyOf = scopeKeys(conv);
    const keep = (hits: SearchHit[]) => {
      for (const { message, keys } of hits) {
        if (message.id >= before) continue;
        c.candidates++;
        // The keys rule out a multi-word query's misses cheaply; the text then decides what they
        // cannot (one-letter words, words past the term cap, a hash collision).
        // The filters narrow the hits already read (no other lookup): a sender, [since, until).
        if (!inFilters(message, filters) || !termsCover((t) => keys.has(keyOf(t)), query) || !matches(message.body, query)) continue;
        c.matched++;
        found.set(message.id, message);
      }
    };
    if (c.whole) {
      keep(await messages.findBySearchTerm(conv, query.lookup!));
      c.done = true;
      return;
    }
    const lowest = Math.max(0, c.next - c.width + 1);
    const nos = Array.from({ length: c.next - lowest + 1 }, (_, i) => c.next - i);
    const [lists, start] = await Promise.all([Promise.all(nos.map((no) => messages.findBySearchTerm(conv, query.lookup!, no))), chunks.startOf(conv, lowest)]);
    for (const hits of lists) keep(hits);
    c.chunksRead += nos.length;
    if (lowest === 0) {
      c.done = true;
      return;
    }
    c.next = lowest - 1;
    c.below = start;
    c.width = Math.min(WIDTH_MAX, c.width * 2);
    // Per chunk so far: the rest by the conversation key reads about its matches; walking on reads
    // a chunk's candidates per chunk until a page of matches (never, if none matched yet).
    const perChunk = { matched: c.matched / c.chunksRead, candidates: c.candidates / c.chunksRead };
    const whole = LOOKUP_COST + perChunk.matched * (c.scope.msgCount / CHUNK_SIZE);
    const walk = perChunk.matched === 0 ? Infinity : (perChunk.candidates + LOOKUP_COST) * Math.ceil(limit / perChunk.matched);
    if (whole <= walk) c.whole = true;
  }
}

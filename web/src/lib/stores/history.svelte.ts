import type { Message } from '@chat/shared/models/types';
import type { ChatItem } from '../utils/messages.ts';

/** One conversation's messages as the client holds them (rules in utils/messages.ts). */
export class History {
  items = $state.raw<ChatItem[]>([]);
  hasMore = $state(true);
  /**
   * The list ends before the newest message: it was opened at an older one (a search result, a
   * reply's original). It pages forward until it reaches the newest, and is "live" again then.
   */
  hasMoreAfter = $state(false);
  loading = $state(false);
  loadingNewer = $state(false);
  /** A message to scroll to and highlight; `seq` changes on every request, so a repeat works too. */
  focus = $state<{ id: string; seq: number } | null>(null);
  /**
   * New messages that arrived while the list was not live: they would leave a gap after its
   * last item, so they wait here and are merged when the list reaches the newest page (the
   * store may lag an ack, so the newest page can miss them).
   */
  held: Message[] = [];
  loaded = $state(false);
  error = $state<string | null>(null);
  /** Set while disconnected: the newest id known to be contiguous, for catch-up. */
  cursor: string | null = null;
  /** The first message that was unread when the conversation was opened (its divider). */
  firstUnreadKey = $state<string | null>(null);
  /** The divider's place is decided (it needs the first page and the unread count): reading may be reported. */
  unreadResolved = $state(false);

  /**
   * The messages by id, rebuilt when `items` changes. A getter, not a `$derived`: a History
   * outlives the view that first asked for it, and a derived made there went inert with that view
   * (Svelte's derived_inert warning on every message that arrived afterwards, and stale answers).
   */
  get byId(): ReadonlyMap<string, Message> {
    const items = this.items;
    if (this.#byId?.items !== items) this.#byId = { items, map: messagesById(items) };
    return this.#byId.map;
  }
  #byId: { items: readonly ChatItem[]; map: ReadonlyMap<string, Message> } | null = null;
}

// Outside the exported class, so Svelte's lint sees a map built for each list, not a shared mutable one.
const messagesById = (items: readonly ChatItem[]): ReadonlyMap<string, Message> =>
  new Map(items.flatMap((it) => (it.message.id ? [[it.message.id, it.message] as const] : [])));

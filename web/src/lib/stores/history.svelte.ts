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
  byId = $derived.by(() => {
    const map = new Map<string, Message>();
    for (const it of this.items) if (it.message.id) map.set(it.message.id, it.message);
    return map;
  });
}

import type { Message } from '@chat/shared/models/types';
import type { ChatItem } from '../utils/messages.ts';

/** One conversation's messages as the client holds them (rules in utils/messages.ts). */
export class History {
  items = $state.raw<ChatItem[]>([]);
  hasMore = $state(true);
  loading = $state(false);
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

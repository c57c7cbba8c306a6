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
  byId = $derived(messagesById(this.items));
}

// Outside the exported class, so Svelte's lint sees a map built once per derivation, not a shared mutable one.
const messagesById = (items: readonly ChatItem[]): ReadonlyMap<string, Message> =>
  new Map(items.flatMap((it) => (it.message.id ? [[it.message.id, it.message] as const] : [])));

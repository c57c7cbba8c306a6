import type { Message } from '@chat/shared/models/types';

export type SendState = 'sent' | 'pending' | 'failed';

/** A message as the UI holds it: a server message, or an optimistic one still in the outbox. */
export interface ChatItem {
  /** Stable across pending -> sent: sender + clientMsgId (falls back to the id). */
  key: string;
  message: Message;
  state: SendState;
  error?: string;
}

export const itemKey = (m: Pick<Message, 'id' | 'senderId' | 'clientMsgId'>) =>
  m.clientMsgId ? `${m.senderId}:${m.clientMsgId}` : `id:${m.id}`;

/** Server order: createdAt, then id (the contract says ids sort the same way). */
export function compareMessages(a: Message, b: Message): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  if (a.id === b.id) return 0;
  if (a.id.length !== b.id.length) return a.id.length - b.id.length;
  return a.id < b.id ? -1 : 1;
}

const isNewer = (incoming: Message, current: Message) => {
  // A deletion is final; otherwise prefer the latest edit we have seen.
  if (current.deletedAt && !incoming.deletedAt) return false;
  if (incoming.deletedAt && !current.deletedAt) return true;
  return true;
};

/**
 * Merges server messages (a history page, a catch-up page, or one live event) into the list:
 * deduplicated by id, an optimistic item replaced by its server copy (same sender + clientMsgId),
 * confirmed messages in server order and pending ones after them in the order they were written.
 * Returns the same array when nothing changed.
 */
export function mergeMessages(items: ChatItem[], incoming: Message[]): ChatItem[] {
  if (incoming.length === 0) return items;
  const sent: ChatItem[] = [];
  const pending: ChatItem[] = [];
  for (const it of items) (it.state === 'sent' ? sent : pending).push(it);

  const byId = new Map<string, number>();
  sent.forEach((it, i) => byId.set(it.message.id, i));
  const pendingByKey = new Map<string, ChatItem>();
  for (const it of pending) pendingByKey.set(it.key, it);

  let changed = false;
  let needsSort = false;
  for (const m of incoming) {
    const at = byId.get(m.id);
    if (at !== undefined) {
      const cur = sent[at]!;
      if (cur.message !== m && isNewer(m, cur.message)) {
        sent[at] = { ...cur, message: m };
        changed = true;
      }
      continue;
    }
    const key = itemKey(m);
    const local = pendingByKey.get(key);
    if (local) pendingByKey.delete(key);
    const last = sent[sent.length - 1];
    if (last && compareMessages(last.message, m) > 0) needsSort = true;
    byId.set(m.id, sent.length);
    sent.push({ key: local?.key ?? key, message: m, state: 'sent' });
    changed = true;
  }
  if (!changed) return items;
  if (needsSort) sent.sort((a, b) => compareMessages(a.message, b.message));
  return [...sent, ...pending.filter((p) => pendingByKey.has(p.key))];
}

/**
 * A conversation's first history page merged with what arrived live before it was loaded. A live
 * message can be newer than the store's copy of the conversation (storage catches up a moment
 * after delivery), so it is kept. Live messages older than a page that has more behind it are
 * dropped: between them and the page there may be messages the list does not hold, and paging
 * back from the oldest item would skip them. They come back with the older pages.
 */
export function mergeFirstPage(items: ChatItem[], page: { messages: Message[]; hasMore: boolean }): ChatItem[] {
  const oldest = page.messages.reduce<Message | undefined>((a, m) => (!a || compareMessages(m, a) < 0 ? m : a), undefined);
  const kept = page.hasMore && oldest ? items.filter((it) => it.state !== 'sent' || compareMessages(it.message, oldest) >= 0) : items;
  return mergeMessages(kept, page.messages);
}

/** Marks a message deleted the way the server stores it (body "", no attachments). */
export function applyDeleted(items: ChatItem[], messageId: string, at = new Date().toISOString()): ChatItem[] {
  const i = items.findIndex((it) => it.message.id === messageId);
  if (i < 0) return items;
  const cur = items[i]!;
  if (cur.message.deletedAt) return items;
  const next = items.slice();
  next[i] = { ...cur, message: { ...cur.message, body: '', attachments: [], reactions: [], deletedAt: at } };
  return next;
}

/** Adds or updates an optimistic item. */
export function upsertPending(items: ChatItem[], item: ChatItem): ChatItem[] {
  const i = items.findIndex((it) => it.key === item.key);
  if (i < 0) return [...items, item];
  if (items[i]!.state === 'sent') return items; // the server copy already arrived
  const next = items.slice();
  next[i] = item;
  return next;
}

export function setItemState(items: ChatItem[], key: string, state: SendState, error?: string): ChatItem[] {
  const i = items.findIndex((it) => it.key === key);
  if (i < 0 || items[i]!.state === 'sent') return items;
  const next = items.slice();
  next[i] = { ...items[i]!, state, error };
  return next;
}

/**
 * Drops the item holding this server id. Not by key: a superseded message (message:superseded)
 * shares its key (sender + clientMsgId) with the one kept, which must stay.
 */
export function withoutMessage(items: ChatItem[], messageId: string): ChatItem[] {
  const next = items.filter((it) => it.state !== 'sent' || it.message.id !== messageId);
  return next.length === items.length ? items : next;
}

export function removeItem(items: ChatItem[], key: string): ChatItem[] {
  const next = items.filter((it) => it.key !== key);
  return next.length === items.length ? items : next;
}

/** The newest message the server has confirmed: the `after=` cursor for catch-up. */
export function lastServerId(items: ChatItem[]): string | null {
  for (let i = items.length - 1; i >= 0; i--) if (items[i]!.state === 'sent') return items[i]!.message.id;
  return null;
}

/**
 * How far behind the newest message a reconnect's catch-up starts. An id is handed out when a send
 * starts and the message is announced once its publish is confirmed (up to the gateway's confirm
 * timeout later), so a member may have seen a newer message before an older one reached anyone:
 * a catch-up from the newest message alone would skip the older one if it was announced while the
 * member was away. Read again, the messages in the margin merge by id.
 */
export const CATCH_UP_MARGIN_MS = 30_000;

/**
 * The `after=` cursor for a catch-up: the newest confirmed message at least `marginMs` older than
 * the newest confirmed one, else the oldest confirmed one held (the margin reaches past what is
 * loaded; older history is paged with before= as usual). Null without any.
 */
export function catchUpCursor(items: ChatItem[], marginMs = CATCH_UP_MARGIN_MS): string | null {
  // Newest first: the first confirmed item sets the bound.
  let until: number | null = null;
  let oldest: string | null = null;
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i]!;
    if (it.state !== 'sent') continue;
    const at = Date.parse(it.message.createdAt);
    if (until === null) until = at - marginMs;
    else if (at <= until) return it.message.id;
    oldest = it.message.id;
  }
  return oldest;
}

export function firstServerId(items: ChatItem[]): string | null {
  for (const it of items) if (it.state === 'sent') return it.message.id;
  return null;
}

/**
 * Fetches every message after `cursor` (`catchUpCursor` of what was held when the connection
 * dropped), page by page. The caller merges the result into whatever
 * the list holds *now* (live events may have arrived meanwhile), so the merge dedupes by id.
 * Stops after `maxPages` with `complete: false`; the caller then reloads the newest page instead.
 */
export async function catchUp(
  cursor: string,
  fetchAfter: (after: string) => Promise<{ messages: Message[]; hasMore: boolean }>,
  maxPages = 20,
): Promise<{ messages: Message[]; complete: boolean }> {
  const messages: Message[] = [];
  for (let page = 0; page < maxPages; page++) {
    const res = await fetchAfter(cursor);
    messages.push(...res.messages);
    const last = res.messages[res.messages.length - 1];
    if (!res.hasMore || !last) return { messages, complete: true };
    cursor = last.id;
  }
  return { messages, complete: false };
}

/** The address of a message: its conversation opened at it, highlighted (a search result, a quote in a thread). */
export const messageHref = (conversationId: string, messageId: string) => `/c/${encodeURIComponent(conversationId)}?m=${encodeURIComponent(messageId)}`;

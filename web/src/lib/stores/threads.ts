import type { Message, ThreadSummary, ThreadView } from '@chat/shared/models/types';

/**
 * Threads' rules as plain functions (the rune store in threads.svelte.ts holds the state): which
 * stream a message belongs to, how a root's summary follows live replies, and how the list of
 * followed threads with unread replies meets live events.
 */

/**
 * A stream is what one message list shows: a conversation's channel (its id) or one thread in
 * it ("<conversationId>/<rootId>", the key the server's history storage uses too). Histories,
 * drafts, uploads and typing are kept per stream, so a thread's composer never shares state with
 * its channel's.
 */
export const streamKey = (conversationId: string, threadRootId?: string | null) =>
  threadRootId ? `${conversationId}/${threadRootId}` : conversationId;

/** The conversation a stream key belongs to (the key itself for a channel). */
export const conversationOf = (key: string) => {
  const at = key.indexOf('/');
  return at < 0 ? key : key.slice(0, at);
};

/** The thread a stream key names (null for a channel). */
export const threadRootOf = (key: string) => {
  const at = key.indexOf('/');
  return at < 0 ? null : key.slice(at + 1);
};

/** Whether a message shows in its conversation's channel: top-level, or a reply also sent there. */
export const inChannel = (m: Message) => !m.threadRootId || m.alsoToChannel;

/** The streams a message is shown in: its thread's, and the channel's when it is top-level or also sent there. */
export function streamsOf(m: Message): string[] {
  if (!m.threadRootId) return [m.conversationId];
  const thread = streamKey(m.conversationId, m.threadRootId);
  return inChannel(m) ? [thread, m.conversationId] : [thread];
}

/** Whether `a` says more than `b`: a later last reply, or as late with more replies. */
const ahead = (a: ThreadSummary, b: ThreadSummary) =>
  (a.lastReplyAt ?? '') > (b.lastReplyAt ?? '') || ((a.lastReplyAt ?? '') === (b.lastReplyAt ?? '') && a.replyCount > b.replyCount);

/**
 * The root as the client should hold it when a copy of it arrives (a page, message:updated, an
 * edit's ack): the server's summary wins unless the one held already counts later replies (it was
 * moved on by live replies, and this copy was read before them). Edits, reactions and deletion
 * always come from the incoming copy.
 */
export function withLatestSummary(current: Message | undefined, incoming: Message): Message {
  const held = current?.thread;
  if (!held || (incoming.thread && !ahead(held, incoming.thread))) return incoming;
  return { ...incoming, thread: held };
}

/**
 * A root's summary after one live reply: counted once (a reply at or before the summary's last
 * reply is already in it, e.g. the root's message:updated came first), its sender among the
 * participants (at most 5, first repliers first, as the server keeps them).
 */
export function summaryWithReply(summary: ThreadSummary | null, reply: Message): ThreadSummary {
  const s = summary ?? { replyCount: 0, lastReplyAt: null, participantIds: [] };
  if (s.lastReplyAt && s.lastReplyAt >= reply.createdAt) return s;
  const participantIds = s.participantIds.includes(reply.senderId) || s.participantIds.length >= 5 ? s.participantIds : [...s.participantIds, reply.senderId];
  return { replyCount: s.replyCount + 1, lastReplyAt: reply.createdAt, participantIds };
}

/** One followed thread with unread replies, as `GET /threads?unread=true` lists it (the parts the list uses). */
export type ThreadEntry = Pick<ThreadView, 'conversationId' | 'root' | 'unreadCount'>;

export const entryKey = (e: Pick<ThreadEntry, 'conversationId' | 'root'>) => streamKey(e.conversationId, e.root.id);

/** Newest reply first (the root's time for a thread without a summary yet). */
export function sortThreads(list: readonly ThreadEntry[]): ThreadEntry[] {
  const at = (e: ThreadEntry) => e.root.thread?.lastReplyAt ?? e.root.createdAt;
  return [...list].sort((a, b) => (at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : 0));
}

/**
 * A live reply in the threads list: one more unread in a listed thread (when it is new, from
 * someone else, and its thread is not open and followed to the bottom), with the root's summary
 * moved on. `known: false` means the thread is not listed: the caller asks the server whether it
 * is followed now (a reply to my root, or one that mentions me, makes it so).
 */
export function listWithReply(
  list: readonly ThreadEntry[],
  reply: Message,
  o: { me: string | null; isNew: boolean; watching: boolean },
): { list: ThreadEntry[]; known: boolean } {
  const key = streamKey(reply.conversationId, reply.threadRootId);
  const at = list.findIndex((e) => entryKey(e) === key);
  if (at < 0) return { list: [...list], known: false };
  const e = list[at]!;
  const counts = o.isNew && reply.senderId !== o.me && !o.watching;
  const next = [...list];
  next[at] = { ...e, root: { ...e.root, thread: summaryWithReply(e.root.thread, reply) }, unreadCount: e.unreadCount + (counts ? 1 : 0) };
  return { list: sortThreads(next), known: true };
}

/**
 * The list after my read of a thread: its unread replies are gone (the view asks for unread
 * threads only, so it leaves the list).
 */
export function listWithRead(list: readonly ThreadEntry[], key: string): ThreadEntry[] {
  const next = list.filter((e) => entryKey(e) !== key);
  return next.length === list.length ? [...list] : next;
}

/** A root's copy in the list replaced (an edit, a deletion, a new summary). */
export function listWithRoot(list: readonly ThreadEntry[], root: Message): ThreadEntry[] {
  const key = streamKey(root.conversationId, root.id);
  return list.map((e) => (entryKey(e) === key ? { ...e, root: withLatestSummary(e.root, root) } : e));
}

/** Whether a reply may make me follow a thread I did not (the list is then read again). */
export const mayFollow = (reply: Message, root: Message | undefined, me: string | null) =>
  !!me && reply.senderId !== me && (reply.mentions.includes(me) || root?.senderId === me || !!root?.thread?.participantIds.includes(me));

/** Unread threads (the sidebar's badge). */
export const unreadThreads = (list: readonly ThreadEntry[]) => list.filter((e) => e.unreadCount > 0).length;

/** The address of a conversation with a thread open in its panel (a link, the phone's back button). */
export const threadHref = (conversationId: string, rootId: string) => `/c/${encodeURIComponent(conversationId)}?thread=${encodeURIComponent(rootId)}`;

/** Set by the thread panel, read by its rows: inside a thread there is no "Reply in thread". */
export const IN_THREAD = Symbol('in-thread');

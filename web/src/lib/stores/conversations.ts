import type { Conversation, Message, User } from '@chat/shared/models/types';

/**
 * The conversation list's rules, as plain functions (the rune store in conversations.svelte.ts
 * holds the state): how a fetched list meets what arrived live, and the unread arithmetic.
 */

export const activity = (c: Conversation) => c.lastMessage?.createdAt ?? c.updatedAt ?? c.createdAt;

/** Newest activity first. */
export function sortByActivity(list: readonly Conversation[]): Conversation[] {
  return [...list].sort((a, b) => (activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : 0));
}

/**
 * A fetched list merged with what the client holds: the server's list decides which
 * conversations there are, but an answer never moves a conversation back. A message that arrived
 * live after the server read its state stays (its preview and its unread count).
 */
export function mergeFetchedList(known: readonly Conversation[], fetched: readonly Conversation[]): Conversation[] {
  const mine = new Map(known.map((c) => [c.id, c]));
  return fetched.map((c) => {
    const k = mine.get(c.id);
    return k?.lastMessage && (!c.lastMessage || k.lastMessage.id > c.lastMessage.id)
      ? { ...c, lastMessage: k.lastMessage, unreadCount: Math.max(c.unreadCount, k.unreadCount), unreadMentionCount: Math.max(c.unreadMentionCount ?? 0, k.unreadMentionCount ?? 0) }
      : c;
  });
}

/** Whether a message counts as unread for me when it arrives: someone else's, and not a system message. */
const countsForMe = (m: Message, me: string | null) => m.senderId !== me && m.kind !== 'system';
/** Whether a message mentions me (an unread mention, as the server counts them). */
const mentionsMe = (m: Message, me: string | null) => !!me && !!m.mentions?.includes(me);

/**
 * What one incoming message (new or updated) changes in its conversation: the preview when it is
 * the newest, and one more unread when it is new, from someone else, and not being watched (and
 * one more unread mention when it also mentions me, as the server counts them).
 */
export function incomingPatch(
  c: Conversation,
  message: Message,
  o: { me: string | null; isNew: boolean; watching: boolean },
): { patch: Partial<Conversation>; countsAsNew: boolean } {
  const patch: Partial<Conversation> = {};
  const newest = !c.lastMessage || c.lastMessage.id === message.id || c.lastMessage.createdAt <= message.createdAt;
  if (newest) patch.lastMessage = message;
  // A system message (a rename, a member added) moves the preview but is nobody's unread.
  const countsAsNew = o.isNew && newest && c.lastMessage?.id !== message.id && countsForMe(message, o.me);
  if (countsAsNew && !o.watching) {
    patch.unreadCount = (c.unreadCount || 0) + 1;
    if (mentionsMe(message, o.me)) patch.unreadMentionCount = (c.unreadMentionCount || 0) + 1;
  }
  return { patch, countsAsNew };
}

/**
 * message:superseded: the preview moves from the dropped id to the kept message. When both copies
 * had arrived (`keptSeen`), the dropped one was counted as one more unread: the server counts the
 * message once. A dropped id that is no longer the preview changes nothing here (the next list
 * read corrects the count).
 */
export function supersededPatch(c: Conversation, droppedId: string, kept: Message, o: { me: string | null; keptSeen: boolean }): Partial<Conversation> {
  if (c.lastMessage?.id !== droppedId) return {};
  const patch: Partial<Conversation> = { lastMessage: kept };
  if (o.keptSeen && countsForMe(kept, o.me) && c.unreadCount > 0) {
    patch.unreadCount = c.unreadCount - 1;
    if (mentionsMe(kept, o.me) && (c.unreadMentionCount ?? 0) > 0) patch.unreadMentionCount = c.unreadMentionCount - 1;
  }
  return patch;
}

/**
 * A conversation:updated (a rename, new admins, members changed) applied to the one held: the
 * gateway's payload carries the settings and members, not the reader's state (it has no last
 * message, unread or mention counts, read positions or notification level of its own), so those stay.
 */
export function withUpdate(known: Conversation | undefined, updated: Conversation): Conversation {
  if (!known) return updated;
  return {
    ...updated,
    lastMessage: known.lastMessage,
    unreadCount: known.unreadCount,
    unreadMentionCount: known.unreadMentionCount,
    notificationLevel: known.notificationLevel,
    readPositions: known.readPositions,
  };
}

/**
 * Whether the caller's own read position (from another device, or this one's read echoed back by
 * the db function, which applies reads a few hundred ms later) covers everything known: only then
 * does the badge clear. A message that arrived after the read message still counts.
 */
export function ownReadClears(c: Conversation, messageId: string): boolean {
  return !c.lastMessage || c.lastMessage.id <= messageId;
}

/** Unread over every conversation (the tab title's count). */
export function totalUnread(list: readonly Conversation[]): number {
  return list.reduce((n, c) => n + (c.unreadCount || 0), 0);
}

/** The conversation Alt+↑/↓ moves to, in the list's order; wraps around. */
export function neighbour(list: readonly Conversation[], activeId: string | null, step: 1 | -1): Conversation | undefined {
  if (list.length === 0) return undefined;
  const at = list.findIndex((c) => c.id === activeId);
  if (at < 0) return step > 0 ? list[0] : list[list.length - 1];
  return list[(at + step + list.length) % list.length];
}

/**
 * The list with a user's new profile (user:updated) in every conversation they are a member of;
 * conversations without them keep their identity, so nothing else re-renders.
 */
export function withUser(list: readonly Conversation[], user: User): Conversation[] {
  return list.map((c) => (c.members.some((m) => m.id === user.id) ? { ...c, members: c.members.map((m) => (m.id === user.id ? user : m)) } : c));
}

/** Every member of every listed conversation, by id (the newest listing of a user wins). */
export const usersById = (list: readonly Conversation[]): ReadonlyMap<string, User> => new Map(list.flatMap((c) => c.members.map((m) => [m.id, m] as const)));

import type { Row } from './rows.ts';

/** Within this many pixels of the end, the reader counts as at the bottom and the view follows. */
export const STICK_PX = 24;

/**
 * What the "new messages" pill counts: messages from others after `leftAt`, the newest row the
 * reader had when they scrolled away from the bottom. None when that row is gone or unknown.
 */
export function countNewBelow(rows: readonly Row[], leftAt: string | null, me: string | null): number {
  if (!leftAt) return 0;
  let i = rows.findIndex((r) => r.key === leftAt);
  if (i < 0) return 0;
  let n = 0;
  for (i++; i < rows.length; i++) {
    const r = rows[i]!;
    // System rows (kind 'system') are never new messages.
    if (r.kind === 'msg' && r.item.message.senderId !== me && !r.item.message.deletedAt) n++;
  }
  return n;
}

/**
 * The first unread message when a conversation is opened: the first message from someone else
 * after my read position when it is known, else the oldest of the last `unreadCount` messages
 * from others (the count is of exactly those). Null when nothing is unread.
 */
export function firstUnread(
  items: readonly { key: string; state: string; message: { id: string; senderId: string; deletedAt: string | null; kind?: string } }[],
  me: string | null,
  unreadCount: number,
  myReadId: string | null,
): string | null {
  if (unreadCount <= 0) return null;
  if (myReadId) {
    const at = items.findIndex((it) => it.message.id === myReadId);
    if (at >= 0) {
      for (let i = at + 1; i < items.length; i++) {
        const it = items[i]!;
        if (it.state === 'sent' && it.message.senderId !== me && it.message.kind !== 'system') return it.key;
      }
      return null;
    }
  }
  let left = unreadCount;
  let key: string | null = null;
  for (let i = items.length - 1; i >= 0 && left > 0; i--) {
    const it = items[i]!;
    // System messages never count as unread (the server's count leaves them out too).
    if (it.state !== 'sent' || it.message.senderId === me || it.message.kind === 'system') continue;
    key = it.key;
    left--;
  }
  return key;
}

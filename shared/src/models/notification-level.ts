import { mentionedOthers } from '../mentions/mentions.ts';
import type { ConversationType, Message, NotificationLevel } from './types.ts';

/** Groups larger than this notify only for mentions unless a member chose otherwise. */
export const QUIET_GROUP_ABOVE = 10;

export const NOTIFICATION_LEVELS = ['all', 'mentions', 'none'] as const satisfies NotificationLevel[];
const LEVELS: readonly string[] = NOTIFICATION_LEVELS;

/**
 * A member's notification level for a conversation: muted means none; else the level they set;
 * else everything for direct conversations and small groups, mentions for larger groups.
 */
export function notificationLevel(pref: { muted: boolean; level: string | null } | undefined, conv: { type: ConversationType; memberCount: number }): NotificationLevel {
  if (pref?.muted) return 'none';
  if (pref?.level && LEVELS.includes(pref.level)) return pref.level as NotificationLevel;
  return conv.type === 'direct' || conv.memberCount <= QUIET_GROUP_ABOVE ? 'all' : 'mentions';
}

/**
 * Whether a message is pushed to a member at this level (the member is not its sender and has no
 * connected socket; the caller checks those): every message at `all`, at `mentions` only those
 * mentioning them (a thread reply too, only when it mentions them), never at `none`. System
 * messages (membership and settings changes) are never pushed.
 */
export function pushesAtLevel(level: NotificationLevel, message: Pick<Message, 'kind' | 'senderId' | 'mentions'>, userId: string): boolean {
  if (message.kind === 'system' || level === 'none') return false;
  return level === 'all' || mentionedOthers(message).includes(userId);
}

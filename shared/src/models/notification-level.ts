import type { ConversationType, NotificationLevel } from './types.ts';

/** Groups larger than this notify only for mentions unless a member chose otherwise. */
export const QUIET_GROUP_ABOVE = 10;

const LEVELS: readonly string[] = ['all', 'mentions', 'none'] satisfies NotificationLevel[];

/**
 * A member's notification level for a conversation: muted means none; else the level they set;
 * else everything for direct conversations and small groups, mentions for larger groups.
 */
export function notificationLevel(pref: { muted: boolean; level: string | null } | undefined, conv: { type: ConversationType; memberCount: number }): NotificationLevel {
  if (pref?.muted) return 'none';
  if (pref?.level && LEVELS.includes(pref.level)) return pref.level as NotificationLevel;
  return conv.type === 'direct' || conv.memberCount <= QUIET_GROUP_ABOVE ? 'all' : 'mentions';
}

import type { PresenceStatus } from '@chat/shared/events/socket';

/** What the client knows of someone's presence, and when it learnt it. */
export interface PresenceEntry {
  status: PresenceStatus;
  lastSeen: string | null;
}

/**
 * The header's line for a person. While this client is offline it cannot know: it says so, or
 * gives the last time it saw them online (the moment the connection dropped, for someone online
 * then).
 */
export function presenceLabel(entry: PresenceEntry | undefined, connected: boolean, disconnectedAt: string | null, format: (iso: string) => string): string {
  if (connected) {
    if (entry?.status === 'online') return 'Online';
    return entry?.lastSeen ? `Last seen ${format(entry.lastSeen)}` : 'Offline';
  }
  const seen = entry?.status === 'online' ? disconnectedAt : (entry?.lastSeen ?? null);
  return seen ? `Last seen ${format(seen)}` : 'Presence unknown';
}

/** Typing users of one conversation, as a new array when it changes (the same one otherwise). */
export function withTyper(list: readonly string[], userId: string, isTyping: boolean): readonly string[] {
  const has = list.includes(userId);
  if (isTyping) return has ? list : [...list, userId];
  return has ? list.filter((u) => u !== userId) : list;
}

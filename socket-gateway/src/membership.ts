import type { ConversationsRepository } from '@chat/shared/repositories/conversations';

/**
 * Conversation members, cached in memory: every message:send checks membership, and a database
 * round trip per message would dominate the send path. Membership events invalidate entries;
 * the TTL bounds staleness if an event is ever missed.
 */
export class MembershipCache {
  private entries = new Map<string, { members: Set<string>; admins: Set<string>; type: string; expires: number }>();

  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly ttlMs: number,
  ) {}

  async get(conversationId: string) {
    const hit = this.entries.get(conversationId);
    if (hit && hit.expires > Date.now()) return hit;
    const rec = await this.conversations.findById(conversationId);
    if (!rec) return null;
    const entry = { members: new Set(rec.memberIds), admins: new Set(rec.admins), type: rec.type, expires: Date.now() + this.ttlMs };
    if (this.ttlMs > 0) this.entries.set(conversationId, entry);
    if (this.entries.size > 50_000) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }

  async isMember(conversationId: string, userId: string): Promise<boolean> {
    return (await this.get(conversationId))?.members.has(userId) ?? false;
  }

  invalidate(conversationId: string): void {
    this.entries.delete(conversationId);
  }
}

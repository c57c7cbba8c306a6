import type { Logger } from '@chat/shared/log';
import type { PresenceStore } from '@chat/shared/presence';
import type { ConversationRecord, ConversationsRepository } from '@chat/shared/repositories/conversations';
import type { ChatServer, ChatSocket } from './handlers.ts';
import { rooms } from './rooms.ts';

const HEARTBEAT_MS = 5000;

/**
 * Presence for this instance's sockets: announces online/offline to everyone who shares a
 * conversation, tells a newly connected socket who is already online, and (through the shared
 * store's liveness keys) reports the users of a crashed instance as offline.
 */
export class PresenceService {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: { io: ChatServer; store: PresenceStore; instanceId: string; conversations: ConversationsRepository; log: Logger },
  ) {}

  async start(): Promise<void> {
    await this.deps.store.heartbeat(this.deps.instanceId);
    this.timer = setInterval(() => void this.tick().catch((e) => this.deps.log.warn('presence tick failed', { err: e })), HEARTBEAT_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async tick() {
    const { store, instanceId } = this.deps;
    await store.heartbeat(instanceId);
    for (const userId of await store.reapDeadInstances()) await this.announce(userId, 'offline', new Date().toISOString());
  }

  /**
   * Records the socket (before the client hears "connected", so a disconnect of the user's older
   * socket that follows can never find them without a live one) and announces "online".
   */
  async register(socket: ChatSocket, conversations: ConversationRecord[]): Promise<void> {
    const { store, instanceId } = this.deps;
    const userId = socket.data.userId;
    if (await store.connect(userId, instanceId, socket.id)) await this.announce(userId, 'online', null, conversations.map((c) => c.id));
  }

  /** Tells a newly connected socket which of its contacts are online right now. */
  async sendSnapshot(socket: ChatSocket, conversations: ConversationRecord[]): Promise<void> {
    const userId = socket.data.userId;
    const contacts = [...new Set(conversations.flatMap((c) => c.memberIds))].filter((u) => u !== userId);
    const online = await this.deps.store.onlineAmong(contacts);
    // Straight to the socket, which is ours: through the adapter each event would also be published to Redis for every instance to decode and drop.
    for (const u of online) socket.emit('presence', { userId: u, status: 'online', lastSeen: null });
  }

  async disconnected(socket: ChatSocket, conversationIds: string[]): Promise<void> {
    const userId = socket.data.userId;
    const at = new Date();
    if (await this.deps.store.disconnect(userId, this.deps.instanceId, socket.id, at)) await this.announce(userId, 'offline', at.toISOString(), conversationIds);
  }

  private async announce(userId: string, status: 'online' | 'offline', lastSeen: string | null, conversationIds?: string[]) {
    const ids = conversationIds ?? (await this.deps.conversations.idsForMember(userId));
    if (ids.length === 0) return;
    this.deps.io.to(ids.map(rooms.conversation)).except(rooms.user(userId)).emit('presence', { userId, status, lastSeen });
  }
}

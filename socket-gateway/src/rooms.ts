import amqp, { type ChannelModel } from 'amqplib';
import { AMQP_SOCKET_OPTIONS } from '@chat/shared/infra/rabbit';
import { EXCHANGE, ROUTING_KEYS, type ConversationCreatedEvent, type MembersChangedEvent, type ReadEvent } from '@chat/shared/events/bus';
import type { Logger } from '@chat/shared/log';
import type { PresenceStore } from '@chat/shared/presence';
import type { Conversation, User } from '@chat/shared/models/types';
import { toConversation, type ConversationRecord, type ConversationsRepository } from '@chat/shared/repositories/conversations';
import type { UsersRepository } from '@chat/shared/repositories/users';
import type { ChatServer } from './handlers.ts';
import type { RoomNames } from './lean.ts';
import type { MembershipCache } from './membership.ts';
import { relayRead } from './read-relay.ts';
import { notificationLevel } from '@chat/shared/models/notification-level';

const CONVERSATION = 'c:';

export const rooms = {
  conversation: (id: string) => `${CONVERSATION}${id}`,
  user: (id: string) => `u:${id}`,
  /** The conversation a room stands for, or null for any other room (a user's, a socket's own). */
  conversationOf: (room: string): string | null => (room.startsWith(CONVERSATION) ? room.slice(CONVERSATION.length) : null),
};

/**
 * The public Conversation for a member who has just joined it: nothing unread yet, the default
 * notification level (no setting exists yet), read positions left to GET /conversations/:id.
 */
export const conversationView = (rec: ConversationRecord, members: User[]): Conversation =>
  toConversation(rec, {
    members,
    lastMessage: null,
    unreadCount: 0,
    notificationLevel: notificationLevel(undefined, { type: rec.type, memberCount: rec.memberIds.length }),
    readPositions: [],
  });

/**
 * Keeps Socket.IO rooms in step with membership. Every instance consumes conversation events on
 * its own exclusive queue and moves only its local sockets, so nothing is fanned out twice.
 */
export async function followMembership(deps: {
  io: ChatServer;
  url: string;
  log: Logger;
  membership: MembershipCache;
  conversations: ConversationsRepository;
  users: UsersRepository;
  presence: PresenceStore;
  roomNames: RoomNames;
}): Promise<{ close(): Promise<void> }> {
  const { io, log, membership, conversations, users, presence, roomNames } = deps;
  let conn: ChannelModel | null = null;
  let closed = false;

  const apply = async (key: string, event: ConversationCreatedEvent | MembersChangedEvent | ReadEvent) => {
    if (key === ROUTING_KEYS.conversationRead) return relayRead(io, rooms.conversation(event.conversationId), event as ReadEvent);
    membership.invalidate(event.conversationId);
    const rec = await conversations.findById(event.conversationId);
    if (!rec) return;
    const view = conversationView(rec, await users.findByIds(rec.memberIds));
    const room = rooms.conversation(rec.id);
    const added = key === 'conversation.created' ? rec.memberIds : (event as MembersChangedEvent).added;
    const removed = key === 'conversation.created' ? [] : (event as MembersChangedEvent).removed;
    for (const u of added) {
      io.local.in(rooms.user(u)).socketsJoin(roomNames.get(room));
      io.local.to(rooms.user(u)).emit('conversation:new', { conversation: view });
    }
    for (const u of removed) {
      io.local.in(rooms.user(u)).socketsLeave(room);
      io.local.to(rooms.user(u)).emit('conversation:removed', { conversationId: rec.id });
    }
    if (key !== 'conversation.created') {
      const others = rec.memberIds.filter((m) => !added.includes(m)).map(rooms.user);
      if (others.length) io.local.to(others).emit('conversation:updated', { conversation: view });
    }
    // New peers learn each other's presence at once, as they would on connect.
    if (added.length) {
      const online = await presence.onlineAmong(rec.memberIds);
      for (const u of added)
        for (const peer of online)
          if (peer !== u) io.local.to(rooms.user(u)).emit('presence', { userId: peer, status: 'online', lastSeen: null });
    }
  };

  const connect = async () => {
    const c = await amqp.connect(deps.url, AMQP_SOCKET_OPTIONS);
    c.on('error', (e) => log.warn('membership consumer connection error', { err: e }));
    c.on('close', () => {
      conn = null;
      if (!closed) setTimeout(() => void connect().catch(() => undefined), 1000).unref();
    });
    const ch = await c.createChannel();
    await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, EXCHANGE, 'conversation.#');
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      const key = msg.fields.routingKey;
      apply(key, JSON.parse(msg.content.toString()))
        .catch((e) => log.warn('membership event failed', { key, err: e }))
        .finally(() => ch.ack(msg));
    });
    conn = c;
  };
  await connect().catch((e) => {
    log.warn('membership consumer not connected yet', { err: e });
    setTimeout(() => void connect().catch(() => undefined), 1000).unref();
  });

  return {
    async close() {
      closed = true;
      await conn?.close().catch(() => undefined);
    },
  };
}

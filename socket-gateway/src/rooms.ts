import {
  DEAD_LETTER_QUEUE,
  EXCHANGE,
  ROUTING_KEYS,
  type ConversationCreatedEvent,
  type ConversationUpdatedEvent,
  type MembersChangedEvent,
  type MessageSupersededEvent,
  type ReadEvent,
  type ThreadUpdatedEvent,
  type UserUpdatedEvent,
} from '@chat/shared/events/bus';
import { busEventSchemas } from '@chat/shared/events/schemas';
import { eventDispatcher, type EventHandler } from '@chat/shared/infra/amqp/dispatch';
import type { AmqpManager } from '@chat/shared/infra/amqp/manager';
import type { Logger } from '@chat/shared/log';
import type { PresenceStore } from '@chat/shared/presence';
import type { Conversation, Message, User } from '@chat/shared/models/types';
import { toConversation, type ConversationRecord, type ConversationsRepository } from '@chat/shared/repositories/conversations';
import type { ProfileCache } from '@chat/shared/repositories/profile-cache';
import type { ChatServer } from './handlers.ts';
import type { RoomNames } from './lean.ts';
import type { MembershipCache } from './membership.ts';
import { relayRead, relaySuperseded, relayThread } from './read-relay.ts';
import type { SendLedger } from './send-ledger.ts';
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
    unreadMentionCount: 0,
    notificationLevel: notificationLevel(undefined, { type: rec.type, memberCount: rec.memberIds.length }),
    readPositions: [],
  });

/** The gateway's membership queue: one per instance, named after it (GATEWAY_ID is unique). */
export const membershipQueue = (gatewayId: string) => `chat.gateway.${gatewayId}.membership`;
/**
 * An instance's queue outlives its connection: it stays bound while the broker is unreachable
 * or restarting (durable), so the events published meanwhile wait for the instance instead of
 * being routed to the others only. A queue no instance has used for this long (the instance is
 * gone for good, e.g. a replaced pod) is deleted by the broker.
 */
const QUEUE_EXPIRES_MS = 15 * 60_000;

/**
 * Keeps Socket.IO rooms in step with membership. Every instance consumes conversation events on
 * its own queue and moves only its local sockets, so nothing is fanned out twice. The consumer
 * lives on the process's AMQP manager, which re-subscribes it after every reconnect and keeps
 * readiness false while it is down. Each routing key has one handler; events are checked
 * against their schema, and one that cannot be applied is retried, then dead-lettered.
 */
export function followMembership(deps: {
  io: ChatServer;
  amqp: AmqpManager;
  gatewayId: string;
  log: Logger;
  membership: MembershipCache;
  conversations: ConversationsRepository;
  /** Members as a conversation view shows them (the process's profile cache: one revision read, not one per member). */
  users: Pick<ProfileCache, 'findByIds'>;
  presence: PresenceStore;
  roomNames: RoomNames;
  ledger: Pick<SendLedger, 'supersede'>;
  maxAttempts?: number;
}): { close(): Promise<void> } {
  const { io, log, membership, conversations, users, presence, roomNames, ledger } = deps;

  const apply = async (event: { conversationId: string; messages?: Message[] | undefined }, added: (rec: ConversationRecord) => string[], removed: string[], created: boolean) => {
    membership.invalidate(event.conversationId);
    const rec = await conversations.findById(event.conversationId);
    if (!rec) return;
    const view = conversationView(rec, await users.findByIds(rec.memberIds));
    const room = rooms.conversation(rec.id);
    const joined = added(rec);
    for (const u of joined) {
      io.local.in(rooms.user(u)).socketsJoin(roomNames.get(room));
      io.local.to(rooms.user(u)).emit('conversation:new', { conversation: view });
    }
    for (const u of removed) {
      io.local.in(rooms.user(u)).socketsLeave(room);
      io.local.to(rooms.user(u)).emit('conversation:removed', { conversationId: rec.id });
    }
    if (!created) {
      const others = rec.memberIds.filter((m) => !joined.includes(m)).map(rooms.user);
      if (others.length) io.local.to(others).emit('conversation:updated', { conversation: view });
    }
    // The change's system messages, after the rooms moved: whoever joined sees who added them,
    // whoever left does not see the rest. The db function stores them from their own
    // message.created events; this is only their live delivery.
    for (const message of event.messages ?? []) io.local.to(room).emit('message:new', { message });
    // New peers learn each other's presence at once, as they would on connect.
    if (joined.length) {
      const online = await presence.onlineAmong(rec.memberIds);
      for (const u of joined)
        for (const peer of online)
          if (peer !== u) io.local.to(rooms.user(u)).emit('presence', { userId: peer, status: 'online', lastSeen: null });
    }
  };

  const handlers: Record<string, EventHandler> = {
    [ROUTING_KEYS.conversationCreated]: {
      schema: busEventSchemas[ROUTING_KEYS.conversationCreated],
      apply: (e: ConversationCreatedEvent) => apply(e, (rec) => rec.memberIds, [], true),
    },
    [ROUTING_KEYS.membersChanged]: {
      schema: busEventSchemas[ROUTING_KEYS.membersChanged],
      apply: (e: MembersChangedEvent) => apply(e, () => e.added, e.removed, false),
    },
    [ROUTING_KEYS.conversationUpdated]: {
      schema: busEventSchemas[ROUTING_KEYS.conversationUpdated],
      apply: (e: ConversationUpdatedEvent) => apply(e, () => [], [], false),
    },
    [ROUTING_KEYS.conversationRead]: {
      schema: busEventSchemas[ROUTING_KEYS.conversationRead],
      apply: async (e: ReadEvent) => relayRead(io, rooms.conversation(e.conversationId), e),
    },
    [ROUTING_KEYS.threadUpdated]: {
      schema: busEventSchemas[ROUTING_KEYS.threadUpdated],
      apply: async (e: ThreadUpdatedEvent) => relayThread(io, rooms.conversation(e.message.conversationId), e),
    },
    // The ledger first: a client that resends on hearing of it is answered with the kept id. The
    // ledger is shared, so every gateway writes the same record; each tells its own sockets.
    [ROUTING_KEYS.messageSuperseded]: {
      schema: busEventSchemas[ROUTING_KEYS.messageSuperseded],
      apply: async (e: MessageSupersededEvent) => {
        await ledger.supersede(e.messageId, e.message);
        relaySuperseded(io, rooms.conversation(e.conversationId), e);
      },
    },
    // A changed name or avatar reaches everyone who shares a conversation with the user (one
    // equality lookup on memberIds) and the user's own other sessions; a socket in several of
    // those rooms gets it once.
    [ROUTING_KEYS.userUpdated]: {
      schema: busEventSchemas[ROUTING_KEYS.userUpdated],
      apply: async (e: UserUpdatedEvent) => {
        const ids = await conversations.idsForMember(e.user.id);
        io.local.to([rooms.user(e.user.id), ...ids.map(rooms.conversation)]).emit('user:updated', { user: e.user });
      },
    },
  };
  const dispatch = eventDispatcher({
    handlers,
    log,
    maxAttempts: deps.maxAttempts ?? 6,
    backoff: { baseMs: 200, maxMs: 5000 },
    // One conversation's events apply in order; different conversations do not wait for each other.
    orderKey: (e) => (e as { conversationId?: string }).conversationId,
  });

  const queue = membershipQueue(deps.gatewayId);
  const handle = deps.amqp.open({
    name: 'membership',
    required: true,
    setup: async (ch) => {
      await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
      await ch.assertQueue(DEAD_LETTER_QUEUE, { durable: true });
      await ch.assertQueue(queue, {
        durable: true,
        arguments: { 'x-expires': QUEUE_EXPIRES_MS, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': DEAD_LETTER_QUEUE },
      });
      await ch.bindQueue(queue, EXCHANGE, 'conversation.#');
      await ch.bindQueue(queue, EXCHANGE, 'user.#');
      await ch.prefetch(64);
      await ch.consume(queue, (msg) => {
        if (msg) void dispatch(ch, msg);
      });
    },
  });
  return { close: () => handle.close() };
}

import { z } from 'zod';
import { id } from '../models/validation.ts';
import { LIMITS } from '../models/limits.ts';
import { ROUTING_KEYS, type BusEvents, type RoutingKey } from './bus.ts';

/**
 * Runtime shapes of the bus events, for consumers (functions called by the connector). Producers
 * are typed by BusEvents; consumers still check, because a malformed event must be refused (and
 * dead-lettered) rather than stored half-right.
 */
const isoTime = z.iso.datetime({ offset: true });

const dimension = z.number().int().min(1).nullable().default(null);
const attachment = z.object({
  fileId: z.string().min(1).max(128),
  name: z.string().max(512),
  size: z.number().int().min(0),
  contentType: z.string().max(255),
  // Absent in events published before attachments carried them.
  width: dimension,
  height: dimension,
});

const systemEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('conversation_created'), actorId: id }),
  z.object({ type: z.literal('members_added'), actorId: id, userIds: z.array(id).min(1).max(LIMITS.groupMembersMax) }),
  z.object({ type: z.literal('member_removed'), actorId: id, userId: id }),
  z.object({ type: z.literal('member_left'), actorId: id }),
  z.object({ type: z.literal('renamed'), actorId: id, title: z.string().max(LIMITS.titleMax), previousTitle: z.string().max(LIMITS.titleMax).nullable() }),
  z.object({ type: z.literal('admin_added'), actorId: id, userId: id }),
  z.object({ type: z.literal('admin_removed'), actorId: id, userId: id }),
]);

export const messageSchema = z.object({
  id,
  conversationId: id,
  senderId: id,
  clientMsgId: z.string().min(1).max(LIMITS.clientMsgIdMax),
  body: z.string().max(LIMITS.bodyMax),
  attachments: z.array(attachment).max(LIMITS.attachmentsMax).default([]),
  replyToId: id.nullable().default(null),
  reactions: z.array(z.object({ emoji: z.string().min(1).max(LIMITS.emojiMax), userIds: z.array(id) })).default([]),
  createdAt: isoTime,
  editedAt: isoTime.nullable().default(null),
  deletedAt: isoTime.nullable().default(null),
  // Defaults: events published before these fields existed are plain top-level user messages.
  kind: z.enum(['user', 'system']).default('user'),
  system: systemEvent.nullable().default(null),
  mentions: z.array(id).max(LIMITS.groupMembersMax).default([]),
  threadRootId: id.nullable().default(null),
  alsoToChannel: z.boolean().default(false),
  thread: z
    .object({ replyCount: z.number().int().min(0), lastReplyAt: isoTime.nullable(), participantIds: z.array(id).max(5) })
    .nullable()
    .default(null),
});

/** A public User (shared with the socket events' schema). */
export const userSchema = z.object({ id, username: z.string(), displayName: z.string(), avatarUrl: z.string().nullable() });

/** The system messages a membership or settings change produced (a few per change). */
const systemMessages = z.array(messageSchema).max(10).optional();

// threadRootId: a thread read position (absent for the conversation's own).
const readEvent = z.object({ conversationId: id, userId: id, messageId: id, threadRootId: id.optional() });

export const busEventSchemas = {
  [ROUTING_KEYS.messageCreated]: z.object({ message: messageSchema, memberIds: z.array(id).max(LIMITS.groupMembersMax).optional() }),
  [ROUTING_KEYS.messageUpdated]: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('edit'), messageId: id, conversationId: id, body: z.string().min(1).max(LIMITS.bodyMax), editedAt: isoTime, mentions: z.array(id).max(LIMITS.groupMembersMax).optional() }),
    z.object({
      kind: z.literal('reaction'),
      messageId: id,
      conversationId: id,
      emoji: z.string().min(1).max(LIMITS.emojiMax),
      userId: id,
      op: z.enum(['add', 'remove']),
    }),
  ]),
  [ROUTING_KEYS.messageDeleted]: z.object({ messageId: id, conversationId: id, deletedAt: isoTime, deletedBy: id }),
  [ROUTING_KEYS.conversationCreated]: z.object({ conversationId: id, memberIds: z.array(id), messages: systemMessages }),
  [ROUTING_KEYS.membersChanged]: z.object({ conversationId: id, added: z.array(id), removed: z.array(id), memberIds: z.array(id), messages: systemMessages }),
  [ROUTING_KEYS.conversationUpdated]: z.object({ conversationId: id, messages: systemMessages }),
  [ROUTING_KEYS.messageRead]: readEvent,
  [ROUTING_KEYS.conversationRead]: readEvent,
  [ROUTING_KEYS.userUpdated]: z.object({ user: userSchema }),
  [ROUTING_KEYS.threadUpdated]: z.object({ message: messageSchema }),
  [ROUTING_KEYS.messageSuperseded]: z.object({ conversationId: id, messageId: id, message: messageSchema }),
} satisfies { [K in RoutingKey]: z.ZodType<BusEvents[K], any> };

export const isRoutingKey = (s: string): s is RoutingKey => Object.prototype.hasOwnProperty.call(busEventSchemas, s);

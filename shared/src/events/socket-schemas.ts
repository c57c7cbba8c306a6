import { z } from 'zod';
import { ERROR_STATUS } from '../errors.ts';
import { id } from '../models/validation.ts';
import {
  deleteMessagePayload,
  editMessagePayload,
  reactionPayload,
  readPayload,
  sendMessagePayload,
  typingPayload,
} from '../models/validation.ts';
import { messageSchema, userSchema } from './schemas.ts';
import type { ClientToServerEvents, ServerToClientEvents } from './socket.ts';

/**
 * Runtime shapes of every Socket.IO event, both ways. Client-to-server payloads are the schemas
 * the gateway validates with (models/validation.ts); server-to-client payloads are checked here
 * against the event map in socket.ts at compile time (`satisfies` below), so a field added to a
 * type without its schema fails to build. The AsyncAPI document (docs/api/asyncapi.json) is
 * generated from these, and the gateway's integration tests parse what clients receive with them.
 */
const isoTime = z.iso.datetime({ offset: true });

export { userSchema };

export const conversationSchema = z.object({
  id,
  type: z.enum(['direct', 'group']),
  title: z.string().nullable(),
  members: z.array(userSchema),
  admins: z.array(id),
  lastMessage: messageSchema.nullable(),
  unreadCount: z.number().int().min(0),
  unreadMentionCount: z.number().int().min(0),
  createdAt: isoTime,
  updatedAt: isoTime,
  notificationLevel: z.enum(['all', 'mentions', 'none']),
  readPositions: z.array(z.object({ userId: id, messageId: id })),
});

const errorCode = z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]);
const ackError = z.object({ ok: z.literal(false), error: z.object({ code: errorCode, message: z.string() }) });
const ack = <T extends z.ZodRawShape>(shape: T) => z.union([z.object({ ok: z.literal(true), ...shape }), ackError]);

type Payload<F> = F extends (payload: infer P, ...rest: never[]) => void ? P : never;

export interface ClientEventSchema {
  summary: string;
  payload: z.ZodType;
  ack: z.ZodType;
}

/** What a client may emit, what the gateway checks it against, and what the acknowledgement holds. */
export const clientEventSchemas = {
  'message:send': {
    summary: 'Send a message; acked once it is durably accepted (published with a RabbitMQ confirm)',
    payload: sendMessagePayload,
    ack: ack({ message: messageSchema }),
  },
  'message:edit': { summary: "Edit one's own message", payload: editMessagePayload, ack: ack({ message: messageSchema }) },
  'message:delete': { summary: "Delete one's own message (or any, as a group admin)", payload: deleteMessagePayload, ack: ack({}) },
  'reaction:toggle': { summary: 'Add or remove a reaction of the sender', payload: reactionPayload, ack: ack({ message: messageSchema }) },
  typing: { summary: 'Start or stop typing (expires after 6 s without a renewal)', payload: typingPayload, ack: ack({}) },
  read: { summary: "Move the sender's read position forward", payload: readPayload, ack: ack({}) },
  'auth:renew': {
    summary: 'Swap in a fresh access token without reconnecting (extension)',
    payload: z.strictObject({ token: z.string().min(1) }),
    ack: ack({ expiresAt: isoTime }),
  },
} satisfies { [K in keyof ClientToServerEvents]: ClientEventSchema & { payload: z.ZodType<Payload<ClientToServerEvents[K]>, any> } };

/** What the gateway emits to clients. */
export const serverEventSchemas = {
  'message:new': { summary: "A new message, to every member's sockets (the sender's other sockets included)", payload: z.object({ message: messageSchema }) },
  'message:updated': { summary: "A message was edited or its reactions changed, or a thread root's summary moved", payload: z.object({ message: messageSchema }) },
  'message:deleted': { summary: 'A message was deleted (it keeps its id and deletedAt)', payload: z.object({ conversationId: id, messageId: id }) },
  'message:superseded': {
    summary: 'A message delivered under messageId was never stored: the one kept for its sender and clientMsgId is `message` (a resend after the gateway lost its send ledger; extension). Drop messageId, keep message',
    payload: z.object({ conversationId: id, messageId: id, message: messageSchema }),
  },
  typing: {
    summary: 'Another member started or stopped typing (with threadRootId: in that thread)',
    payload: z.object({ conversationId: id, userId: id, isTyping: z.boolean(), threadRootId: id.optional() }),
  },
  presence: {
    summary: 'A user who shares a conversation came online or went offline (online until their last socket goes)',
    payload: z.object({ userId: id, status: z.enum(['online', 'offline']), lastSeen: isoTime.nullable() }),
  },
  read: {
    summary: "A member's read position moved (with threadRootId: their position in that thread)",
    payload: z.object({ conversationId: id, userId: id, messageId: id, threadRootId: id.optional() }),
  },
  'conversation:new': { summary: 'A conversation was created with the user in it, or the user was added', payload: z.object({ conversation: conversationSchema }) },
  'conversation:updated': { summary: "The conversation's members or settings changed (extension)", payload: z.object({ conversation: conversationSchema }) },
  'conversation:removed': { summary: 'The user left or was removed from the conversation (extension)', payload: z.object({ conversationId: id }) },
  'user:updated': { summary: 'A user who shares a conversation (or the user, on another session) changed display name or avatar', payload: z.object({ user: userSchema }) },
  'auth:expiring': { summary: 'The access token expires soon: renew with auth:renew or be disconnected (extension)', payload: z.object({ expiresAt: isoTime }) },
} satisfies { [K in keyof ServerToClientEvents]: { summary: string; payload: z.ZodType<Payload<ServerToClientEvents[K]>, any> } };

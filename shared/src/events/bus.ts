import type { Attachment, Message, User } from '../models/types.ts';

/**
 * Events on RabbitMQ (docs/api/events.md, "RabbitMQ"): topic exchange chat.events,
 * persistent JSON messages. The connector delivers them to functions by routing key.
 */
export const EXCHANGE = 'chat.events';
export const DEAD_LETTER_QUEUE = 'chat.events.dlq';

export const ROUTING_KEYS = {
  messageCreated: 'message.created',
  messageUpdated: 'message.updated',
  messageDeleted: 'message.deleted',
  conversationCreated: 'conversation.created',
  membersChanged: 'conversation.members.changed',
  /** A group's settings changed (title, admins); published by the db function, relayed by the gateways. */
  conversationUpdated: 'conversation.updated',
  /** A member read up to a message (from the gateway's `read`); the db function stores it. */
  messageRead: 'message.read',
  /** A member's read position moved (published by the db function, its only writer). */
  conversationRead: 'conversation.read',
  /** A user's public profile (name, avatar) changed; published by auth and file, relayed by the gateways. */
  userUpdated: 'user.updated',
  /**
   * A thread root's summary changed (replies stored): published by the db function, the one writer
   * of summaries, and relayed by every gateway as `message:updated` (under conversation.#, which
   * each gateway's queue already binds).
   */
  threadUpdated: 'conversation.thread.updated',
  /**
   * A message.created the store turned away: its (sender, clientMsgId) is stored under another id
   * (a resend acked with a new id after Redis lost the send ledger). Published by the db function;
   * every gateway records the kept message in the ledger and tells the room (docs/faults.md).
   * Under conversation.#, which each gateway's queue already binds.
   */
  messageSuperseded: 'conversation.message.superseded',
} as const;
export type RoutingKey = (typeof ROUTING_KEYS)[keyof typeof ROUTING_KEYS];

export interface MessageCreatedEvent {
  message: Message;
  /**
   * The conversation's members as the gateway saw them when it accepted the message (its
   * membership check). Consumers that only need the recipients skip a conversation lookup per
   * message; anything that must be current (who may still read it) is checked against the store.
   * Absent in events published before the field existed.
   */
  memberIds?: string[] | undefined;
}

/** An edit, a reaction change or a delete, as an operation the store applies idempotently. */
export type MessageUpdatedEvent =
  /** `mentions`: the edited body's, resolved again; absent in events published before edits carried it (the stored ones stay). */
  | { kind: 'edit'; messageId: string; conversationId: string; body: string; editedAt: string; mentions?: string[] | undefined }
  | { kind: 'reaction'; messageId: string; conversationId: string; emoji: string; userId: string; op: 'add' | 'remove' };

export interface MessageDeletedEvent {
  messageId: string;
  conversationId: string;
  deletedAt: string;
  deletedBy: string;
}

/**
 * The system messages a change produced (docs/groups.md). They are stored from their own
 * message.created events; here they only tell the gateways what to broadcast as message:new.
 * Absent in events published before system messages existed.
 */
interface CarriesSystemMessages {
  messages?: Message[] | undefined;
}

export interface ConversationCreatedEvent extends CarriesSystemMessages {
  conversationId: string;
  memberIds: string[];
}

export interface MembersChangedEvent extends CarriesSystemMessages {
  conversationId: string;
  added: string[];
  removed: string[];
  memberIds: string[];
}

/** A group's title or admins changed: members get conversation:updated. */
export interface ConversationUpdatedEvent extends CarriesSystemMessages {
  conversationId: string;
}

/**
 * message.read (a request to move) and conversation.read (it moved) carry the same fields. With
 * threadRootId it is the thread's own read position, separate from the conversation's.
 */
export interface ReadEvent {
  conversationId: string;
  userId: string;
  messageId: string;
  threadRootId?: string | undefined;
}

/** The thread root as stored after its summary moved. */
export interface ThreadUpdatedEvent {
  message: Message;
}

/** `messageId` was never stored: `message` (same sender and clientMsgId, another id) stands for it. */
export interface MessageSupersededEvent {
  conversationId: string;
  messageId: string;
  message: Message;
}

export interface UserUpdatedEvent {
  user: User;
}

export interface BusEvents {
  'message.created': MessageCreatedEvent;
  'message.updated': MessageUpdatedEvent;
  'message.deleted': MessageDeletedEvent;
  'conversation.created': ConversationCreatedEvent;
  'conversation.members.changed': MembersChangedEvent;
  'conversation.updated': ConversationUpdatedEvent;
  'message.read': ReadEvent;
  'conversation.read': ReadEvent;
  'user.updated': UserUpdatedEvent;
  'conversation.thread.updated': ThreadUpdatedEvent;
  'conversation.message.superseded': MessageSupersededEvent;
}

/** Header carrying the connector's shared secret; functions refuse event calls without it. */
export const CONNECTOR_SECRET_HEADER = 'x-connector-secret';
/** Header with the routing key, as OpenFaaS connectors send it. */
export const TOPIC_HEADER = 'x-topic';
/** Present when the body is a JSON array of {topic, event} delivered as one batch. */
export const BATCH_HEADER = 'x-batch';

export interface BatchItem<K extends RoutingKey = RoutingKey> {
  topic: K;
  event: BusEvents[K];
}

export type { Attachment };

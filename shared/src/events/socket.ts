import type { ErrorCode } from '../errors.ts';
import type { Conversation, Message, User } from '../models/types.ts';

/**
 * The Socket.IO event maps shared by the gateway and the web app: renaming an event or changing
 * a payload fails to compile on both sides (docs/api/events.md; the runtime schemas are in
 * socket-schemas.ts).
 */
export type AckError = { ok: false; error: { code: ErrorCode; message: string } };
export type Ack<T extends object = object> = ({ ok: true } & T) | AckError;
export type AckFn<T extends object = object> = (ack: Ack<T>) => void;

export interface SendMessagePayload {
  conversationId: string;
  clientMsgId: string;
  body: string;
  attachments?: string[];
  replyToId?: string | null;
  /** Reply in the thread of this top-level message of the same conversation. */
  threadRootId?: string | null;
  /** With threadRootId: show the reply in the conversation's main stream too. */
  alsoToChannel?: boolean;
}

/** `read`: the conversation's position, or with threadRootId the thread's own (never backwards). */
export interface ReadPayload {
  conversationId: string;
  messageId: string;
  threadRootId?: string | null;
}

export interface ClientToServerEvents {
  'message:send': (payload: SendMessagePayload, ack: AckFn<{ message: Message }>) => void;
  'message:edit': (payload: { messageId: string; body: string }, ack: AckFn<{ message: Message }>) => void;
  'message:delete': (payload: { messageId: string }, ack: AckFn) => void;
  'reaction:toggle': (payload: { messageId: string; emoji: string }, ack: AckFn<{ message: Message }>) => void;
  /** threadRootId: typing in that thread's composer (the conversation's indicator ignores it). */
  typing: (payload: { conversationId: string; isTyping: boolean; threadRootId?: string | null }, ack: AckFn) => void;
  read: (payload: ReadPayload, ack: AckFn) => void;
  /** Extension: swap in a fresh access token without reconnecting (acks with its expiry). */
  'auth:renew': (payload: { token: string }, ack: AckFn<{ expiresAt: string }>) => void;
}

export type PresenceStatus = 'online' | 'offline';

export interface ServerToClientEvents {
  'message:new': (payload: { message: Message }) => void;
  'message:updated': (payload: { message: Message }) => void;
  'message:deleted': (payload: { conversationId: string; messageId: string }) => void;
  /** Extension: messageId was never stored; `message` (same sender and clientMsgId) is the one kept. */
  'message:superseded': (payload: { conversationId: string; messageId: string; message: Message }) => void;
  typing: (payload: { conversationId: string; userId: string; isTyping: boolean; threadRootId?: string }) => void;
  presence: (payload: { userId: string; status: PresenceStatus; lastSeen: string | null }) => void;
  /** threadRootId is set when a thread read position moved (the conversation's is untouched). */
  read: (payload: { conversationId: string; userId: string; messageId: string; threadRootId?: string }) => void;
  'conversation:new': (payload: { conversation: Conversation }) => void;
  /** Extension: the conversation's member list changed, or the user was removed from it. */
  'conversation:updated': (payload: { conversation: Conversation }) => void;
  'conversation:removed': (payload: { conversationId: string }) => void;
  /** A user who shares a conversation (or the user, on another session) changed name or avatar. */
  'user:updated': (payload: { user: User }) => void;
  /** Extension: the access token is about to expire; renew with auth:renew or be disconnected. */
  'auth:expiring': (payload: { expiresAt: string }) => void;
}

export interface SocketAuth {
  token: string;
}

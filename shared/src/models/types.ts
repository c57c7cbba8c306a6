/** The public objects (docs/api/README.md, "Objects"). Times are ISO-8601 UTC strings. */
export interface User {
  id: string;
  username: string;
  displayName: string;
  /** Same-origin path of the user's square WebP avatar (immutable per version), or null. */
  avatarUrl: string | null;
}

export type ConversationType = 'direct' | 'group';

export interface Attachment {
  fileId: string;
  name: string;
  size: number;
  contentType: string;
  /** Pixel size of an image, upright (EXIF orientation applied), so a client reserves its box before it loads; null for other files and unreadable images. */
  width: number | null;
  height: number | null;
}

export interface Reaction {
  emoji: string;
  userIds: string[];
}

/** "user": sent by a person; "system": a record of a membership or settings change. */
export type MessageKind = 'user' | 'system';

/**
 * What a system message records. actorId is who did it; system messages are stored through the
 * same pipeline as others (exactly once), order like any message and never count as unread.
 */
export type SystemEvent =
  | { type: 'conversation_created'; actorId: string }
  | { type: 'members_added'; actorId: string; userIds: string[] }
  | { type: 'member_removed'; actorId: string; userId: string }
  | { type: 'member_left'; actorId: string }
  | { type: 'renamed'; actorId: string; title: string; previousTitle: string | null }
  | { type: 'admin_added'; actorId: string; userId: string }
  | { type: 'admin_removed'; actorId: string; userId: string };

/** A thread root's summary: replies so far, the newest reply's time, and up to 5 repliers. */
export interface ThreadSummary {
  replyCount: number;
  lastReplyAt: string | null;
  participantIds: string[];
}

export interface Message {
  id: string;
  conversationId: string;
  senderId: string;
  clientMsgId: string;
  body: string;
  attachments: Attachment[];
  replyToId: string | null;
  reactions: Reaction[];
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  kind: MessageKind;
  /** Set on system messages only. */
  system: SystemEvent | null;
  /** Ids of the members mentioned with @username (only members), in order of first mention. */
  mentions: string[];
  /** The thread this message replies in, or null for a top-level message. */
  threadRootId: string | null;
  /** A thread reply also shown in the conversation's main stream ("also send to channel"); false otherwise. */
  alsoToChannel: boolean;
  /** On a thread root: its summary; null on any message without replies. */
  thread: ThreadSummary | null;
}

export interface Conversation {
  id: string;
  type: ConversationType;
  title: string | null;
  members: User[];
  admins: string[];
  lastMessage: Message | null;
  unreadCount: number;
  /** Extension: the unread messages that mention the caller (the sidebar's mention badge). */
  unreadMentionCount: number;
  createdAt: string;
  updatedAt: string;
  /** The caller's notification level for this conversation. */
  notificationLevel: NotificationLevel;
  /** Every member's read position that exists (members who never read have none). */
  readPositions: ReadPosition[];
}

export type NotificationLevel = 'all' | 'mentions' | 'none';

export interface ReadPosition {
  userId: string;
  messageId: string;
}

export interface AuthTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
}

export interface AuthSession extends AuthTokens {
  user: User;
}

/** A page of history (GET …/messages), oldest first. */
export interface HistoryPage {
  messages: Message[];
  hasMore: boolean;
}

/** GET …/messages?around=: the page centred on a message, oldest first, the message in it. */
export interface AroundPage {
  messages: Message[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
}

/** GET …/threads/:rootId/messages: a page of a thread's replies, oldest first, and its root as stored. */
export interface ThreadPage extends HistoryPage {
  root: Message;
}

/** GET …/threads/:rootId/messages?around=: the page of replies centred on one, and the root. */
export interface ThreadAroundPage extends AroundPage {
  root: Message;
}

/** A thread as one user sees it (GET /threads, GET /conversations/:id/threads/:rootId). */
export interface ThreadView {
  conversationId: string;
  root: Message;
  /** Replies from others after the caller's thread read position (all of them if never read). */
  unreadCount: number;
  following: boolean;
  /** The caller's thread read position (a reply id), or null. */
  lastReadId: string | null;
}

/** POST /uploads: where and how to PUT the bytes. */
export interface UploadTicket {
  fileId: string;
  uploadUrl: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: string;
}

/** GET /files/:fileId: a short-lived download link. */
export interface FileLink extends Attachment {
  url: string;
  expiresAt: string;
  /** Extension: a small (about 320 px) WebP rendition of an image, for inline display. */
  previewUrl?: string;
}

/** The fields of a plain top-level user message (no thread, no mentions), fresh for each message built. */
export const plainMessageFields = (): Pick<Message, 'kind' | 'system' | 'mentions' | 'threadRootId' | 'alsoToChannel' | 'thread'> => ({
  kind: 'user',
  system: null,
  mentions: [],
  threadRootId: null,
  alsoToChannel: false,
  thread: null,
});

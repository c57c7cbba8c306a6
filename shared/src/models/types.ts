/** The public objects (docs/api/README.md, "Objects"). Times are ISO-8601 UTC strings. */
export interface User {
  id: string;
  username: string;
  displayName: string;
}

export type ConversationType = 'direct' | 'group';

export interface Attachment {
  fileId: string;
  name: string;
  size: number;
  contentType: string;
}

export interface Reaction {
  emoji: string;
  userIds: string[];
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
}

export interface Conversation {
  id: string;
  type: ConversationType;
  title: string | null;
  members: User[];
  admins: string[];
  lastMessage: Message | null;
  unreadCount: number;
  createdAt: string;
  updatedAt: string;
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

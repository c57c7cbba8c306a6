/** The contract's public objects (../shared/CONTRACT.md, "Objects"). Times are ISO-8601 UTC strings. */
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

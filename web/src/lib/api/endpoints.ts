import type {
  Attachment,
  AuthSession,
  AuthTokens as RefreshResponse,
  Conversation,
  FileLink,
  AroundPage,
  HistoryPage as Page,
  Message,
  NotificationLevel,
  ThreadPage,
  ThreadView,
  UploadTicket,
  User,
} from '@chat/shared/models/types';
import type { ApiClient } from './client.ts';

// Response shapes come from the contract's types in shared/, the same ones the functions return.
export type SessionResponse = AuthSession;
export type { RefreshResponse, Page, UploadTicket, FileLink };

const thread = (id: string, rootId: string) => `/db/conversations/${encodeURIComponent(id)}/threads/${encodeURIComponent(rootId)}`;

/** The contract's routes, typed. Browsers rely on the httpOnly refresh cookie, never the body token. */
export function endpoints(api: ApiClient) {
  return {
    auth: {
      register: (username: string, password: string, displayName?: string) =>
        api.post<SessionResponse>('/auth/register', displayName ? { username, password, displayName } : { username, password }, { anonymous: true }),
      login: (username: string, password: string) =>
        api.post<SessionResponse>('/auth/login', { username, password }, { anonymous: true }),
      refresh: () => api.post<RefreshResponse>('/auth/refresh', {}, { anonymous: true }),
      logout: () => api.post<void>('/auth/logout', {}, { anonymous: true }),
      me: () => api.get<{ user: User }>('/auth/me'),
      updateMe: (patch: { displayName?: string }) => api.patch<{ user: User }>('/auth/me', patch),
      /** The refresh cookie goes along, so this session stays signed in and the others are revoked. */
      changePassword: (currentPassword: string, newPassword: string) => api.post<void>('/auth/password', { currentPassword, newPassword }),
    },
    db: {
      searchUsers: (q: string, signal?: AbortSignal) => api.get<{ users: User[] }>('/db/users', { q }, signal),
      conversations: () => api.get<{ conversations: Conversation[] }>('/db/conversations'),
      conversation: (id: string) => api.get<{ conversation: Conversation }>(`/db/conversations/${encodeURIComponent(id)}`),
      createDirect: (otherId: string) =>
        api.post<{ conversation: Conversation }>('/db/conversations', { type: 'direct', memberIds: [otherId] }),
      createGroup: (title: string, memberIds: string[]) =>
        api.post<{ conversation: Conversation }>('/db/conversations', { type: 'group', title, memberIds }),
      addMembers: (id: string, userIds: string[]) =>
        api.post<{ conversation: Conversation }>(`/db/conversations/${encodeURIComponent(id)}/members`, { userIds }),
      rename: (id: string, title: string) => api.patch<{ conversation: Conversation }>(`/db/conversations/${encodeURIComponent(id)}`, { title }),
      setAdmin: (id: string, userId: string, admin: boolean) => {
        const path = `/db/conversations/${encodeURIComponent(id)}/admins/${encodeURIComponent(userId)}`;
        return admin ? api.put<{ conversation: Conversation }>(path, {}) : api.del<{ conversation: Conversation }>(path);
      },
      removeMember: (id: string, userId: string) =>
        api.del<void>(`/db/conversations/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`),
      before: (id: string, before?: string, limit = 50) =>
        api.get<Page>(`/db/conversations/${encodeURIComponent(id)}/messages`, { before, limit }),
      after: (id: string, after: string, limit = 100) =>
        api.get<Page>(`/db/conversations/${encodeURIComponent(id)}/messages`, { after, limit }),
      /** One thread's replies, paged like a conversation (before/after a reply id, or the newest). */
      thread: (id: string, rootId: string, q: { before?: string | undefined; after?: string | undefined; limit: number }) =>
        api.get<ThreadPage>(`${thread(id, rootId)}/messages`, q),
      /** A thread as I see it: its root, my unread count and whether I follow it. */
      threadView: (id: string, rootId: string) => api.get<{ thread: ThreadView }>(thread(id, rootId)),
      follow: (id: string, rootId: string, on: boolean) => (on ? api.put<void>(`${thread(id, rootId)}/follow`, {}) : api.del<void>(`${thread(id, rootId)}/follow`)),
      threadRead: (id: string, rootId: string, messageId: string) => api.post<void>(`${thread(id, rootId)}/read`, { messageId }),
      /** The threads I follow (with unread replies only, when asked). */
      threads: (unread: boolean) => api.get<{ threads: ThreadView[] }>('/db/threads', unread ? { unread: 'true' } : {}),
      around: (id: string, around: string, limit = 50) =>
        api.get<AroundPage>(`/db/conversations/${encodeURIComponent(id)}/messages`, { around, limit }),
      read: (id: string, messageId: string) => api.post<void>(`/db/conversations/${encodeURIComponent(id)}/read`, { messageId }),
      search: (q: string, filters: { conversationId?: string; from?: string; since?: string; until?: string } = {}, signal?: AbortSignal) =>
        api.get<{ messages: Message[] }>('/db/search', { q, ...filters }, signal),
    },
    file: {
      start: (conversationId: string, file: { name: string; size: number; type: string }) =>
        api.post<UploadTicket>('/file/uploads', {
          conversationId,
          name: file.name,
          size: file.size,
          contentType: file.type || 'application/octet-stream',
        }),
      complete: (fileId: string) => api.post<{ file: Attachment }>(`/file/uploads/${encodeURIComponent(fileId)}/complete`, {}),
      avatarStart: (file: { size: number; type: string }) =>
        api.post<Omit<UploadTicket, 'fileId'> & { uploadId: string }>('/file/avatar', { size: file.size, contentType: file.type }),
      avatarComplete: (uploadId: string) => api.post<{ user: User }>(`/file/avatar/${encodeURIComponent(uploadId)}/complete`, {}),
      link: (fileId: string) => api.get<FileLink>(`/file/files/${encodeURIComponent(fileId)}`),
    },
    notification: {
      vapidKey: () => api.get<{ publicKey: string }>('/notification/vapid-public-key'),
      subscribe: (sub: { endpoint: string; keys: { p256dh: string; auth: string } }) =>
        api.post<void>('/notification/subscriptions', sub),
      unsubscribe: (endpoint: string) => api.del<void>('/notification/subscriptions', { endpoint }),
      level: (conversationId: string, level: NotificationLevel) =>
        api.put<void>(`/notification/preferences/${encodeURIComponent(conversationId)}`, { level }),
    },
  };
}
export type Endpoints = ReturnType<typeof endpoints>;

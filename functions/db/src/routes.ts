import type { Hono } from 'hono';
import type { TokenVerifier } from '@chat/shared/auth/verifier';
import { readJson, readQuery, requireUser, type AppEnv } from '@chat/shared/http/app';
import { buildOpenApi, type RouteDoc } from '@chat/shared/http/openapi';
import {
  addMembersRequest,
  createConversationRequest,
  historyQuery,
  id,
  messageSearchQuery,
  readRequest,
  threadsQuery,
  renameConversationRequest,
  userSearchQuery,
} from '@chat/shared/models/validation';
import type { ConversationsService } from './conversations.service.ts';
import type { SearchService } from './search.service.ts';
import type { ThreadsService } from './threads.service.ts';

export const openApiInfo = { title: 'Chat db function', version: '1.0.0', serverUrl: '/api/db' };

/** The routes' documentation: served as /openapi.json and written to docs/api/ by `npm run docs`. */
export const docs: RouteDoc[] = [
  { method: 'get', path: '/users', summary: 'Find users by username or display-name prefix', query: userSearchQuery, auth: true, responses: { 200: '{users}', 400: 'Invalid query' } },
  { method: 'post', path: '/conversations', summary: 'Start a direct (idempotent per pair) or group conversation', body: createConversationRequest, auth: true, responses: { 200: 'The existing direct conversation', 201: 'Created', 400: 'Invalid input or unknown member' } },
  { method: 'get', path: '/conversations', summary: "The caller's conversations, most recent activity first", auth: true, responses: { 200: '{conversations}' } },
  { method: 'get', path: '/conversations/:id', summary: 'One conversation', auth: true, responses: { 200: '{conversation}', 404: 'Not a member' } },
  { method: 'post', path: '/conversations/:id/members', summary: 'Add members (group admins only)', body: addMembersRequest, auth: true, responses: { 200: '{conversation}', 400: 'Invalid input', 403: 'Not an admin', 404: 'Not a member' } },
  {
    method: 'patch',
    path: '/conversations/:id',
    summary: 'Rename a group (group admins only); members get conversation:updated and a system message',
    body: renameConversationRequest,
    auth: true,
    responses: { 200: '{conversation}', 400: 'Invalid title, or a direct conversation', 403: 'Not an admin', 404: 'Not a member' },
  },
  {
    method: 'put',
    path: '/conversations/:id/admins/:userId',
    summary: 'Make a member an admin (group admins only; idempotent)',
    auth: true,
    responses: { 200: '{conversation}', 400: 'A direct conversation', 403: 'Not an admin', 404: 'Not a member, or userId is none' },
  },
  {
    method: 'delete',
    path: '/conversations/:id/admins/:userId',
    summary: 'Take admin rights from a member, yourself included (group admins only; idempotent)',
    auth: true,
    responses: { 200: '{conversation}', 400: 'A direct conversation', 403: 'Not an admin', 404: 'Not a member, or userId is none', 409: 'The last admin' },
  },
  { method: 'delete', path: '/conversations/:id/members/:userId', summary: 'Remove a member (admins) or leave (yourself)', auth: true, responses: { 204: 'Removed', 403: 'Not an admin', 404: 'Not a member' } },
  {
    method: 'get',
    path: '/conversations/:id/messages',
    summary: 'History pages, oldest first: before/after an id (or the newest), or around a message of the conversation (at most one of them)',
    query: historyQuery,
    auth: true,
    responses: { 200: '{messages, hasMore}; with around: {messages, hasMoreBefore, hasMoreAfter}, the message in it', 400: 'Invalid query', 404: 'Not a member, or around names no message of the conversation' },
  },
  { method: 'post', path: '/conversations/:id/read', summary: 'Move the read position forward', body: readRequest, auth: true, responses: { 204: 'Recorded', 404: 'Not a member or unknown message' } },
  {
    method: 'get',
    path: '/conversations/:id/threads/:rootId/messages',
    summary: "A thread's replies, paged like a conversation (before/after/around, at most one), with its root",
    query: historyQuery,
    auth: true,
    responses: { 200: '{root, messages, hasMore}; with around: {root, messages, hasMoreBefore, hasMoreAfter}', 400: 'Invalid query', 404: 'Not a member, no such thread root, or around names no reply of the thread' },
  },
  { method: 'get', path: '/conversations/:id/threads/:rootId', summary: "A thread as the caller sees it: root, unreadCount, following, lastReadId", auth: true, responses: { 200: '{thread}', 404: 'Not a member or no such root' } },
  { method: 'put', path: '/conversations/:id/threads/:rootId/follow', summary: 'Follow a thread (its replies count as unread and push)', auth: true, responses: { 204: 'Following', 404: 'Not a member or no such root' } },
  { method: 'delete', path: '/conversations/:id/threads/:rootId/follow', summary: 'Stop following a thread', auth: true, responses: { 204: 'Not following', 404: 'Not a member or no such root' } },
  { method: 'post', path: '/conversations/:id/threads/:rootId/read', summary: "Move the caller's read position in the thread forward (a reply of it)", body: readRequest, auth: true, responses: { 204: 'Recorded', 404: 'Not a member, no such root, or not a reply of it' } },
  { method: 'get', path: '/threads', summary: "The caller's followed threads, most recent reply first; unread=true keeps those with unread replies", query: threadsQuery, auth: true, responses: { 200: '{threads: [{conversationId, root, unreadCount, following, lastReadId}]}', 400: 'Invalid query' } },
  { method: 'get', path: '/search', summary: "Messages of the caller's conversations holding every word of q (by word prefix, case- and accent-insensitive), newest first; optionally only in conversationId, only from a sender, sent at or after since and before until (ISO date-times or dates); before=<messageId> gives the page after one ending at that message", query: messageSearchQuery, auth: true, responses: { 200: '{messages}', 400: 'Invalid query (or since not before until)', 404: 'Not a member of conversationId' } },
];

const pathId = (value: string) => {
  const r = id.safeParse(value);
  return r.success ? r.data : '';
};

/** The contract's DB routes; every one needs a valid access token. */
export function conversationRoutes(app: Hono<AppEnv>, deps: { service: ConversationsService; search: SearchService; threads: ThreadsService; verifier: TokenVerifier }) {
  const { service, threads } = deps;
  const auth = requireUser(deps.verifier);
  for (const p of ['/users', '/users/*', '/conversations', '/conversations/*', '/search', '/threads']) app.use(p, auth);

  app.get('/users', async (c) => c.json({ users: await service.searchUsers(c.var.userId, readQuery(c, userSearchQuery).q) }));

  app.post('/conversations', async (c) => {
    const { conversation, created } = await service.create(c.var.userId, await readJson(c, createConversationRequest));
    return c.json({ conversation }, created ? 201 : 200);
  });

  app.get('/conversations', async (c) => c.json({ conversations: await service.list(c.var.userId) }));

  app.get('/conversations/:id', async (c) => c.json({ conversation: await service.get(c.var.userId, pathId(c.req.param('id'))) }));

  app.post('/conversations/:id/members', async (c) => {
    const { userIds } = await readJson(c, addMembersRequest);
    return c.json({ conversation: await service.addMembers(c.var.userId, pathId(c.req.param('id')), userIds) });
  });

  app.patch('/conversations/:id', async (c) => {
    const { title } = await readJson(c, renameConversationRequest);
    return c.json({ conversation: await service.rename(c.var.userId, pathId(c.req.param('id')), title) });
  });

  for (const [method, admin] of [['put', true], ['delete', false]] as const)
    app[method]('/conversations/:id/admins/:userId', async (c) =>
      c.json({ conversation: await service.setAdmin(c.var.userId, pathId(c.req.param('id')), pathId(c.req.param('userId')), admin) }),
    );

  app.delete('/conversations/:id/members/:userId', async (c) => {
    await service.removeMember(c.var.userId, pathId(c.req.param('id')), pathId(c.req.param('userId')));
    return c.body(null, 204);
  });

  app.get('/conversations/:id/messages', async (c) =>
    c.json(await service.history(c.var.userId, pathId(c.req.param('id')), readQuery(c, historyQuery))),
  );

  app.post('/conversations/:id/read', async (c) => {
    const { messageId } = await readJson(c, readRequest);
    await service.markRead(c.var.userId, pathId(c.req.param('id')), messageId);
    return c.body(null, 204);
  });

  const thread = (c: { req: { param: (k: 'id' | 'rootId') => string } }) => [pathId(c.req.param('id')), pathId(c.req.param('rootId'))] as const;
  app.get('/conversations/:id/threads/:rootId/messages', async (c) => c.json(await threads.page(c.var.userId, ...thread(c), readQuery(c, historyQuery))));
  app.get('/conversations/:id/threads/:rootId', async (c) => c.json({ thread: await threads.view(c.var.userId, ...thread(c)) }));
  app.put('/conversations/:id/threads/:rootId/follow', async (c) => {
    await threads.follow(c.var.userId, ...thread(c), true);
    return c.body(null, 204);
  });
  app.delete('/conversations/:id/threads/:rootId/follow', async (c) => {
    await threads.follow(c.var.userId, ...thread(c), false);
    return c.body(null, 204);
  });
  app.post('/conversations/:id/threads/:rootId/read', async (c) => {
    const { messageId } = await readJson(c, readRequest);
    await threads.markReadFor(c.var.userId, ...thread(c), messageId);
    return c.body(null, 204);
  });
  app.get('/threads', async (c) => c.json({ threads: await threads.list(c.var.userId, readQuery(c, threadsQuery).unread) }));

  app.get('/search', async (c) => {
    const q = readQuery(c, messageSearchQuery);
    const { q: text, before, ...filters } = q;
    return c.json({ messages: await deps.search.search(c.var.userId, text, filters, { before }) });
  });

  const openapi = buildOpenApi(openApiInfo, docs);
  app.get('/openapi.json', (c) => c.json(openapi));
}

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
  userSearchQuery,
} from '@chat/shared/models/validation';
import type { ConversationsService } from './conversations.service.ts';
import type { SearchService } from './search.service.ts';

export const openApiInfo = { title: 'Chat db function', version: '1.0.0', serverUrl: '/api/db' };

/** The routes' documentation: served as /openapi.json and written to docs/api/ by `npm run docs`. */
export const docs: RouteDoc[] = [
  { method: 'get', path: '/users', summary: 'Find users by username or display-name prefix', query: userSearchQuery, auth: true, responses: { 200: '{users}', 400: 'Invalid query' } },
  { method: 'post', path: '/conversations', summary: 'Start a direct (idempotent per pair) or group conversation', body: createConversationRequest, auth: true, responses: { 200: 'The existing direct conversation', 201: 'Created', 400: 'Invalid input or unknown member' } },
  { method: 'get', path: '/conversations', summary: "The caller's conversations, most recent activity first", auth: true, responses: { 200: '{conversations}' } },
  { method: 'get', path: '/conversations/:id', summary: 'One conversation', auth: true, responses: { 200: '{conversation}', 404: 'Not a member' } },
  { method: 'post', path: '/conversations/:id/members', summary: 'Add members (group admins only)', body: addMembersRequest, auth: true, responses: { 200: '{conversation}', 400: 'Invalid input', 403: 'Not an admin', 404: 'Not a member' } },
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
  { method: 'get', path: '/search', summary: "Messages of the caller's conversations holding every word of q (by word prefix, case- and accent-insensitive), newest first; before=<messageId> gives the page after one ending at that message", query: messageSearchQuery, auth: true, responses: { 200: '{messages}', 400: 'Invalid query', 404: 'Not a member of conversationId' } },
];

const pathId = (value: string) => {
  const r = id.safeParse(value);
  return r.success ? r.data : '';
};

/** The contract's DB routes; every one needs a valid access token. */
export function conversationRoutes(app: Hono<AppEnv>, deps: { service: ConversationsService; search: SearchService; verifier: TokenVerifier }) {
  const { service } = deps;
  const auth = requireUser(deps.verifier);
  for (const p of ['/users', '/users/*', '/conversations', '/conversations/*', '/search']) app.use(p, auth);

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

  app.get('/search', async (c) => {
    const q = readQuery(c, messageSearchQuery);
    return c.json({ messages: await deps.search.search(c.var.userId, q.q, q.conversationId, { before: q.before }) });
  });

  const openapi = buildOpenApi(openApiInfo, docs);
  app.get('/openapi.json', (c) => c.json(openapi));
}

#!/usr/bin/env node
// An in-memory stand-in for the chat backend (the contract's REST routes and socket events),
// serving web/build with an SPA fallback. Only for developing and screenshotting the web app
// without the full stack; the real e2e run uses the stack that `npm start` brings up.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { randomUUID, randomBytes } from 'node:crypto';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';

const BUILD = fileURLToPath(new URL('../build/', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

export function startMock({ port = 0, tokenSeconds = 900 } = {}) {
  const users = new Map(); // id -> {id, username, displayName, password}
  const tokens = new Map(); // access token -> userId
  const refresh = new Map(); // refresh token -> userId
  const convs = new Map(); // id -> conversation (without lastMessage/unread)
  const messages = new Map(); // convId -> Message[]
  const readPos = new Map(); // `${conv}|${user}` -> index
  const files = new Map(); // fileId -> {meta, bytes}
  let seq = 0;
  const nextId = () => (++seq).toString(36).padStart(8, '0') + randomBytes(4).toString('hex');
  const pub = (u) => ({ id: u.id, username: u.username, displayName: u.displayName });
  const err = (res, status, code, message) => send(res, status, { error: { code, message } });
  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const session = (res, user, status = 200) => {
    const accessToken = randomUUID();
    const refreshToken = randomUUID();
    tokens.set(accessToken, user.id);
    refresh.set(refreshToken, user.id);
    setTimeout(() => tokens.delete(accessToken), tokenSeconds * 1000).unref();
    return { accessToken, refreshToken, expiresIn: tokenSeconds, cookie: `refresh=${refreshToken}; HttpOnly; SameSite=Strict; Path=/api/auth` };
  };
  const view = (c, uid) => {
    const list = messages.get(c.id) ?? [];
    const at = readPos.get(`${c.id}|${uid}`) ?? -1;
    return {
      ...c,
      members: c.memberIds.map((id) => pub(users.get(id))),
      memberIds: undefined,
      lastMessage: list[list.length - 1] ?? null,
      unreadCount: list.filter((m, i) => i > at && m.senderId !== uid).length,
      readPositions: c.memberIds.flatMap((u) => {
        const i = readPos.get(`${c.id}|${u}`);
        return i === undefined || !list[i] ? [] : [{ userId: u, messageId: list[i].id }];
      }),
    };
  };
  const sockets = new Map(); // userId -> Set<socket>
  let io;
  const toUser = (uid, ev, payload) => io.to(`u:${uid}`).emit(ev, payload);
  const toConv = (c, ev, payload, except) => c.memberIds.forEach((u) => u !== except && toUser(u, ev, payload));
  const online = (uid) => (sockets.get(uid)?.size ?? 0) > 0;

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const path = url.pathname;
    if (!path.startsWith('/api/')) return serveStatic(res, path);
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks);
    if (req.method === 'PUT' && path.startsWith('/api/mock-upload/')) {
      const f = files.get(path.split('/').pop());
      if (!f) return err(res, 404, 'not_found', 'no upload');
      f.bytes = raw;
      f.type = req.headers['content-type'];
      return send(res, 200, {});
    }
    if (req.method === 'GET' && path.startsWith('/api/mock-download/')) {
      const f = files.get(path.split('/').pop());
      if (!f?.bytes) return err(res, 404, 'not_found', 'no file');
      res.writeHead(200, { 'content-type': f.meta.contentType });
      return res.end(f.bytes);
    }
    let body = {};
    try {
      body = raw.length ? JSON.parse(raw.toString()) : {};
    } catch {
      return err(res, 400, 'invalid_request', 'bad json');
    }
    const cookie = /(?:^|;\s*)refresh=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const me = bearer ? users.get(tokens.get(bearer)) : undefined;
    const m = (method, re) => req.method === method && re.exec(path);
    let p;
    if ((p = m('POST', /^\/api\/auth\/(register|login)$/))) {
      const username = String(body.username ?? '').trim().toLowerCase();
      let user = [...users.values()].find((u) => u.username === username);
      if (p[1] === 'register') {
        if (!/^[a-z0-9_.-]{3,32}$/.test(username) || String(body.password ?? '').length < 8) return err(res, 400, 'invalid_request', 'Invalid username or password.');
        if (user) return err(res, 409, 'conflict', 'That username is taken.');
        user = { id: nextId(), username, displayName: body.displayName || username, password: body.password };
        users.set(user.id, user);
      } else if (!user || user.password !== body.password) return err(res, 401, 'unauthorized', 'Wrong username or password.');
      const s = session(res, user);
      return send(res, p[1] === 'register' ? 201 : 200, { user: pub(user), accessToken: s.accessToken, refreshToken: s.refreshToken, expiresIn: s.expiresIn }, { 'set-cookie': s.cookie });
    }
    if (m('POST', /^\/api\/auth\/refresh$/)) {
      const t = body.refreshToken ?? cookie;
      const uid = t && refresh.get(t);
      if (!uid) return err(res, 401, 'unauthorized', 'Session expired.');
      refresh.delete(t);
      const s = session(res, users.get(uid));
      return send(res, 200, { accessToken: s.accessToken, refreshToken: s.refreshToken, expiresIn: s.expiresIn }, { 'set-cookie': s.cookie });
    }
    if (m('POST', /^\/api\/auth\/logout$/)) {
      refresh.delete(body.refreshToken ?? cookie);
      res.writeHead(204, { 'set-cookie': 'refresh=; Max-Age=0; Path=/api/auth' });
      return res.end();
    }
    if (path.startsWith('/api/notification/vapid-public-key')) return send(res, 200, { publicKey: 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U' });
    if (!me) return err(res, 401, 'unauthorized', 'Authentication required.');
    if (m('GET', /^\/api\/auth\/me$/)) return send(res, 200, { user: pub(me) });
    if (m('GET', /^\/api\/db\/users$/)) {
      const q = (url.searchParams.get('q') ?? '').toLowerCase();
      return send(res, 200, { users: [...users.values()].filter((u) => u.username.startsWith(q)).slice(0, 20).map(pub) });
    }
    if (m('GET', /^\/api\/db\/conversations$/)) {
      const list = [...convs.values()].filter((c) => c.memberIds.includes(me.id)).map((c) => view(c, me.id));
      list.sort((a, b) => ((b.lastMessage?.createdAt ?? b.updatedAt) > (a.lastMessage?.createdAt ?? a.updatedAt) ? 1 : -1));
      return send(res, 200, { conversations: list });
    }
    if (m('POST', /^\/api\/db\/conversations$/)) {
      const memberIds = [...new Set([me.id, ...(body.memberIds ?? [])])];
      if (body.type === 'direct') {
        const existing = [...convs.values()].find((c) => c.type === 'direct' && c.memberIds.length === memberIds.length && memberIds.every((i) => c.memberIds.includes(i)));
        if (existing) return send(res, 200, { conversation: view(existing, me.id) });
      }
      const now = new Date().toISOString();
      const c = { id: nextId(), type: body.type, title: body.type === 'group' ? body.title : null, memberIds, admins: body.type === 'group' ? [me.id] : [], createdAt: now, updatedAt: now };
      convs.set(c.id, c);
      messages.set(c.id, []);
      for (const u of memberIds) for (const s of sockets.get(u) ?? []) s.join(`c:${c.id}`);
      memberIds.forEach((u) => toUser(u, 'conversation:new', { conversation: view(c, u) }));
      // Presence snapshot for the new peers (see the web app's report: the gateway should do this too).
      for (const u of memberIds) for (const v of memberIds) if (u !== v && online(v)) toUser(u, 'presence', { userId: v, status: 'online', lastSeen: null });
      return send(res, 201, { conversation: view(c, me.id) });
    }
    const conv = (id) => {
      const c = convs.get(id);
      return c && c.memberIds.includes(me.id) ? c : null;
    };
    if ((p = m('GET', /^\/api\/db\/conversations\/([^/]+)$/))) {
      const c = conv(p[1]);
      return c ? send(res, 200, { conversation: view(c, me.id) }) : err(res, 404, 'not_found', 'Conversation not found.');
    }
    if ((p = m('POST', /^\/api\/db\/conversations\/([^/]+)\/members$/))) {
      const c = conv(p[1]);
      if (!c) return err(res, 404, 'not_found', 'Conversation not found.');
      for (const u of body.userIds ?? []) if (!c.memberIds.includes(u)) c.memberIds.push(u);
      c.memberIds.forEach((u) => toUser(u, 'conversation:updated', { conversation: view(c, u) }));
      return send(res, 200, { conversation: view(c, me.id) });
    }
    if ((p = m('DELETE', /^\/api\/db\/conversations\/([^/]+)\/members\/([^/]+)$/))) {
      const c = conv(p[1]);
      if (!c) return err(res, 404, 'not_found', 'Conversation not found.');
      c.memberIds = c.memberIds.filter((u) => u !== p[2]);
      toUser(p[2], 'conversation:removed', { conversationId: c.id });
      res.writeHead(204);
      return res.end();
    }
    if ((p = m('GET', /^\/api\/db\/conversations\/([^/]+)\/messages$/))) {
      const c = conv(p[1]);
      if (!c) return err(res, 404, 'not_found', 'Conversation not found.');
      const list = messages.get(c.id);
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const after = url.searchParams.get('after');
      const before = url.searchParams.get('before');
      if (after) {
        const i = list.findIndex((x) => x.id === after);
        const page = list.slice(i + 1, i + 1 + limit);
        return send(res, 200, { messages: page, hasMore: i + 1 + limit < list.length });
      }
      const end = before ? list.findIndex((x) => x.id === before) : list.length;
      return send(res, 200, { messages: list.slice(Math.max(0, end - limit), end), hasMore: end - limit > 0 });
    }
    if ((p = m('POST', /^\/api\/db\/conversations\/([^/]+)\/read$/))) {
      markRead(me.id, p[1], body.messageId);
      res.writeHead(204);
      return res.end();
    }
    if (m('POST', /^\/api\/file\/uploads$/)) {
      const fileId = nextId();
      files.set(fileId, { meta: { fileId, name: body.name, size: body.size, contentType: body.contentType }, conv: body.conversationId });
      return send(res, 201, { fileId, uploadUrl: `/api/mock-upload/${fileId}`, method: 'PUT', headers: { 'content-type': body.contentType }, expiresAt: new Date(Date.now() + 600_000).toISOString() });
    }
    if ((p = m('POST', /^\/api\/file\/uploads\/([^/]+)\/complete$/))) {
      const f = files.get(p[1]);
      if (!f?.bytes) return err(res, 409, 'conflict', 'Not uploaded yet.');
      return send(res, 200, { file: f.meta });
    }
    if ((p = m('GET', /^\/api\/file\/files\/([^/]+)$/))) {
      const f = files.get(p[1]);
      if (!f) return err(res, 404, 'not_found', 'File not found.');
      return send(res, 200, { ...f.meta, url: `/api/mock-download/${f.meta.fileId}`, expiresAt: new Date(Date.now() + 300_000).toISOString() });
    }
    if (path.startsWith('/api/notification/')) {
      res.writeHead(req.method === 'POST' ? 201 : 204);
      return res.end();
    }
    return err(res, 404, 'not_found', 'No such route.');
  });

  function markRead(uid, convId, messageId) {
    const c = convs.get(convId);
    const i = (messages.get(convId) ?? []).findIndex((x) => x.id === messageId);
    if (!c || i < 0) return;
    const k = `${convId}|${uid}`;
    if ((readPos.get(k) ?? -1) >= i) return;
    readPos.set(k, i);
    toConv(c, 'read', { conversationId: convId, userId: uid, messageId });
  }

  async function serveStatic(res, path) {
    let file = normalize(join(BUILD, decodeURIComponent(path)));
    if (!file.startsWith(BUILD)) file = join(BUILD, 'index.html');
    try {
      if (!(await stat(file)).isFile()) throw new Error('dir');
    } catch {
      file = join(BUILD, 'index.html');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(await readFile(file));
  }

  io = new Server(server, { path: '/socket.io/' });
  io.use((socket, next) => {
    const uid = tokens.get(socket.handshake.auth?.token);
    if (!uid) return next(new Error('unauthorized'));
    socket.data.uid = uid;
    next();
  });
  io.on('connection', (socket) => {
    const uid = socket.data.uid;
    const first = !online(uid);
    if (!sockets.has(uid)) sockets.set(uid, new Set());
    sockets.get(uid).add(socket);
    socket.join(`u:${uid}`);
    const mine = [...convs.values()].filter((c) => c.memberIds.includes(uid));
    const peers = new Set(mine.flatMap((c) => c.memberIds).filter((u) => u !== uid));
    for (const p of peers) if (online(p)) socket.emit('presence', { userId: p, status: 'online', lastSeen: null });
    if (first) for (const p of peers) toUser(p, 'presence', { userId: uid, status: 'online', lastSeen: null });
    const ok = (ack, extra = {}) => typeof ack === 'function' && ack({ ok: true, ...extra });
    const fail = (ack, code, message) => typeof ack === 'function' && ack({ ok: false, error: { code, message } });
    const find = (id) => {
      for (const [cid, list] of messages) {
        const m = list.find((x) => x.id === id);
        if (m && convs.get(cid).memberIds.includes(uid)) return m;
      }
      return null;
    };
    socket.on('message:send', (p, ack) => {
      const c = convs.get(p?.conversationId);
      if (!c || !c.memberIds.includes(uid)) return fail(ack, 'not_found', 'Conversation not found.');
      const list = messages.get(c.id);
      const dup = list.find((x) => x.senderId === uid && x.clientMsgId === p.clientMsgId);
      if (dup) return ok(ack, { message: dup });
      const body = String(p.body ?? '').trim();
      if (!body && !p.attachments?.length) return fail(ack, 'invalid_request', 'body: must not be empty');
      const msg = {
        id: nextId(), conversationId: c.id, senderId: uid, clientMsgId: p.clientMsgId, body,
        attachments: (p.attachments ?? []).map((f) => files.get(f)?.meta).filter(Boolean),
        replyToId: p.replyToId ?? null, reactions: [], createdAt: new Date().toISOString(), editedAt: null, deletedAt: null,
      };
      list.push(msg);
      c.updatedAt = msg.createdAt;
      ok(ack, { message: msg });
      toConv(c, 'message:new', { message: msg });
      markRead(uid, c.id, msg.id);
    });
    socket.on('message:edit', (p, ack) => {
      const msg = find(p?.messageId);
      if (!msg || msg.senderId !== uid) return fail(ack, 'not_found', 'Message not found.');
      msg.body = String(p.body).trim();
      msg.editedAt = new Date().toISOString();
      ok(ack, { message: msg });
      toConv(convs.get(msg.conversationId), 'message:updated', { message: msg });
    });
    socket.on('message:delete', (p, ack) => {
      const msg = find(p?.messageId);
      if (!msg || msg.senderId !== uid) return fail(ack, 'not_found', 'Message not found.');
      Object.assign(msg, { body: '', attachments: [], deletedAt: new Date().toISOString() });
      ok(ack);
      toConv(convs.get(msg.conversationId), 'message:deleted', { conversationId: msg.conversationId, messageId: msg.id });
    });
    socket.on('reaction:toggle', (p, ack) => {
      const msg = find(p?.messageId);
      if (!msg) return fail(ack, 'not_found', 'Message not found.');
      let r = msg.reactions.find((x) => x.emoji === p.emoji);
      if (!r) msg.reactions.push((r = { emoji: p.emoji, userIds: [] }));
      r.userIds = r.userIds.includes(uid) ? r.userIds.filter((u) => u !== uid) : [...r.userIds, uid];
      msg.reactions = msg.reactions.filter((x) => x.userIds.length);
      ok(ack, { message: msg });
      toConv(convs.get(msg.conversationId), 'message:updated', { message: msg });
    });
    socket.on('typing', (p, ack) => {
      const c = convs.get(p?.conversationId);
      if (c) toConv(c, 'typing', { conversationId: c.id, userId: uid, isTyping: !!p.isTyping }, uid);
      ok(ack);
    });
    socket.on('read', (p, ack) => {
      markRead(uid, p?.conversationId, p?.messageId);
      ok(ack);
    });
    socket.on('auth:renew', (p, ack) => {
      if (tokens.get(p?.token) !== uid) return fail(ack, 'unauthorized', 'bad token');
      ok(ack, { expiresAt: new Date(Date.now() + tokenSeconds * 1000).toISOString() });
    });
    socket.on('disconnect', () => {
      sockets.get(uid)?.delete(socket);
      if (!online(uid)) for (const p of peers) toUser(p, 'presence', { userId: uid, status: 'offline', lastSeen: new Date().toISOString() });
    });
  });

  /** Test helper: insert many messages directly. */
  function seed(convId, senderId, count) {
    const list = messages.get(convId);
    const start = Date.now() - count * 60_000;
    for (let i = 0; i < count; i++)
      list.push({ id: nextId(), conversationId: convId, senderId: typeof senderId === 'function' ? senderId(i) : senderId, clientMsgId: `seed-${i}`, body: `Seeded message ${i + 1}`, attachments: [], replyToId: null, reactions: [], createdAt: new Date(start + i * 60_000).toISOString(), editedAt: null, deletedAt: null });
  }

  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({ baseUrl: `http://127.0.0.1:${actual}`, seed, users, convs, close: () => new Promise((r) => { io.close(); server.close(() => r()); }) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = Number(process.env.PORT ?? 4180);
  startMock({ port }).then(({ baseUrl }) => console.log(`mock backend + web/build at ${baseUrl}`));
}

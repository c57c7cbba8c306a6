import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { Ack, SendMessagePayload } from '@chat/shared/events/socket';
import type { Attachment, Conversation, Message, User } from '@chat/shared/models/types';
import { LIMITS } from '@chat/shared/models/limits';
import { errorMessage } from '../api/errors.ts';
import { putWithProgress } from '../api/upload.ts';
import {
  applyDeleted,
  catchUp,
  firstServerId,
  itemKey,
  lastServerId,
  mergeFirstPage,
  mergeMessages,
  removeItem,
  setItemState,
  upsertPending,
  type ChatItem,
} from '../utils/messages.ts';
import { newClientMsgId } from '../utils/format.ts';
import { api, auth } from './auth.svelte.ts';
import { Outbox, type SendResult } from './outbox.ts';
import { socket } from './socket.svelte.ts';

/** Extension fields the web app uses when the backend sends them (see web/README.md). */
type ConversationExt = Conversation & {
  readPositions?: { userId: string; messageId: string }[];
  muted?: boolean;
};

const PAGE = 50;
/** How long after a (re)connect the list is read again (the store lags acks by well under this). */
const SETTLE_MS = 1500;
const RETRYABLE = new Set(['unavailable', 'internal', 'rate_limited']);

export class History {
  items = $state.raw<ChatItem[]>([]);
  hasMore = $state(true);
  loading = $state(false);
  loaded = $state(false);
  error = $state<string | null>(null);
  /** Set while disconnected: the newest id known to be contiguous, for catch-up. */
  cursor: string | null = null;
  byId = $derived.by(() => {
    const map = new Map<string, Message>();
    for (const it of this.items) if (it.message.id) map.set(it.message.id, it.message);
    return map;
  });
}

export class Upload {
  readonly id = newClientMsgId();
  progress = $state(0);
  state = $state<'uploading' | 'done' | 'error'>('uploading');
  error = $state<string | null>(null);
  attachment = $state<Attachment | null>(null);
  readonly abort = new AbortController();
  constructor(
    readonly conversationId: string,
    readonly file: File,
  ) {}
}

export function conversationTitle(c: Conversation, me: string | null): string {
  if (c.type === 'group') return c.title || c.members.map((m) => m.displayName).join(', ') || 'Group';
  const other = c.members.find((m) => m.id !== me) ?? c.members[0];
  return other?.displayName ?? 'Direct message';
}

export function otherMember(c: Conversation, me: string | null): User | undefined {
  return c.type === 'direct' ? c.members.find((m) => m.id !== me) : undefined;
}

const activity = (c: Conversation) => c.lastMessage?.createdAt ?? c.updatedAt ?? c.createdAt;

class ChatStore {
  conversations = $state.raw<Conversation[]>([]);
  listLoaded = $state(false);
  listError = $state<string | null>(null);
  activeId = $state<string | null>(null);
  /** The open conversation is scrolled to its newest message. */
  viewingLatest = $state(true);

  presence = new SvelteMap<string, 'online' | 'offline'>();
  /** conversationId -> user ids currently typing. */
  typing = new SvelteMap<string, string[]>();
  /** conversationId -> (userId -> last read messageId). */
  reads = new SvelteMap<string, Record<string, string>>();
  muted = new SvelteSet<string>();
  uploads = new SvelteMap<string, Upload[]>();
  outboxSize = $state(0);

  sorted = $derived.by(() => [...this.conversations].sort((a, b) => (activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : 0)));
  users = $derived.by(() => {
    const map = new Map<string, User>();
    for (const c of this.conversations) for (const m of c.members) map.set(m.id, m);
    return map;
  });
  totalUnread = $derived(this.conversations.reduce((n, c) => n + (c.unreadCount || 0), 0));

  #histories = new Map<string, History>();
  #listSeq = 0;
  #settle: ReturnType<typeof setTimeout> | null = null;
  #typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #myTyping = new Map<string, { since: number; stop: ReturnType<typeof setTimeout> }>();
  #lastReadSent = new Map<string, string>();
  #started = false;
  #cleanup: (() => void)[] = [];

  readonly outbox: Outbox = new Outbox((p) => this.#sendNow(p), {
    sent: (entry, message) => {
      this.#syncOutbox();
      this.#receive(message);
    },
    failed: (entry, error) => {
      this.#syncOutbox();
      const h = this.history(entry.payload.conversationId);
      h.items = setItemState(h.items, `${auth.user?.id}:${entry.payload.clientMsgId}`, 'failed', error);
    },
    changed: () => this.#syncOutbox(),
  });

  get me(): string | null {
    return auth.user?.id ?? null;
  }

  history(id: string): History {
    let h = this.#histories.get(id);
    if (!h) {
      h = new History();
      this.#histories.set(id, h);
    }
    return h;
  }

  conversation(id: string | null): Conversation | undefined {
    return id ? this.conversations.find((c) => c.id === id) : undefined;
  }

  user(id: string): User | undefined {
    return this.users.get(id) ?? (auth.user?.id === id ? auth.user : undefined);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  start() {
    if (this.#started) return;
    this.#started = true;
    const s = socket.connect();
    s.on('message:new', ({ message }) => this.#receive(message));
    s.on('message:updated', ({ message }) => this.#receive(message));
    s.on('message:deleted', ({ conversationId, messageId }) => this.#deleted(conversationId, messageId));
    s.on('typing', ({ conversationId, userId, isTyping }) => this.#typingEvent(conversationId, userId, isTyping));
    s.on('presence', ({ userId, status }) => this.presence.set(userId, status));
    s.on('read', ({ conversationId, userId, messageId }) => this.#readEvent(conversationId, userId, messageId));
    s.on('conversation:new', ({ conversation }) => this.#upsertConversation(conversation));
    s.on('conversation:updated', ({ conversation }) => this.#upsertConversation(conversation));
    s.on('conversation:removed', ({ conversationId }) => this.#removeConversation(conversationId));
    this.#cleanup.push(
      socket.onDisconnect(() => this.#markCursors()),
      socket.onConnect(() => {
        void this.#resync();
        void this.outbox.flush();
      }),
    );
    void this.loadConversations();
  }

  stop() {
    this.#started = false;
    if (this.#settle) clearTimeout(this.#settle);
    for (const fn of this.#cleanup) fn();
    this.#cleanup = [];
    socket.disconnect();
    this.conversations = [];
    this.listLoaded = false;
    this.activeId = null;
    this.#histories.clear();
    this.presence.clear();
    this.typing.clear();
    this.reads.clear();
    this.uploads.clear();
    for (const e of [...this.outbox.list()]) this.outbox.discard(e.payload.clientMsgId);
    this.#syncOutbox();
  }

  async loadConversations() {
    const seq = ++this.#listSeq;
    try {
      const { conversations } = await api.db.conversations();
      // Only the newest request's answer counts, and an answer never moves a conversation back:
      // a message that arrived live after the server read its state stays (preview and unread).
      if (seq !== this.#listSeq) return;
      const known = new Map(this.conversations.map((c) => [c.id, c]));
      this.conversations = conversations.map((c) => {
        const mine = known.get(c.id);
        return mine?.lastMessage && (!c.lastMessage || mine.lastMessage.id > c.lastMessage.id)
          ? { ...c, lastMessage: mine.lastMessage, unreadCount: Math.max(c.unreadCount, mine.unreadCount) }
          : c;
      });
      for (const c of conversations) this.#absorbExtensions(c);
      this.listLoaded = true;
      this.listError = null;
    } catch (e) {
      this.listError = errorMessage(e);
    }
  }

  /** When the connection drops, remember where each loaded history is known to be complete. */
  #markCursors() {
    for (const h of this.#histories.values()) if (h.loaded && !h.cursor) h.cursor = lastServerId(h.items);
  }

  /** After any (re)connect: refresh the list, catch every loaded conversation up with `after=`. */
  async #resync() {
    // Reload the list on every connection, the first included: a list fetched before the socket
    // joined its rooms misses messages sent in between (wrong unread counts and previews). A
    // message acked just before the join may reach the store a moment after this read, so the
    // list is read once more when that moment has passed.
    await this.loadConversations();
    if (this.#settle) clearTimeout(this.#settle);
    this.#settle = setTimeout(() => void this.loadConversations(), SETTLE_MS);
    await Promise.all(
      [...this.#histories.entries()].map(async ([id, h]) => {
        if (!h.loaded) return;
        const cursor = h.cursor ?? lastServerId(h.items);
        if (!cursor) return;
        try {
          const res = await catchUp(cursor, (after) => api.db.after(id, after, 100));
          if (res.complete) {
            h.items = mergeMessages(h.items, res.messages);
          } else {
            // Too far behind: start again from the newest page.
            const page = await api.db.before(id, undefined, PAGE);
            h.items = mergeMessages(
              h.items.filter((it) => it.state !== 'sent'),
              page.messages,
            );
            h.hasMore = page.hasMore;
          }
          h.cursor = null;
        } catch {
          /* the next reconnect tries again from the same cursor */
        }
      }),
    );
    if (this.activeId && this.viewingLatest) this.markRead(this.activeId);
  }

  // ---- history ---------------------------------------------------------------------------

  async open(id: string) {
    this.activeId = id;
    if (!this.conversation(id)) {
      try {
        const { conversation } = await api.db.conversation(id);
        this.#upsertConversation(conversation);
      } catch (e) {
        this.history(id).error = errorMessage(e);
        return;
      }
    }
    const h = this.history(id);
    if (!h.loaded) await this.loadOlder(id);
  }

  async loadOlder(id: string) {
    const h = this.history(id);
    if (h.loading || (h.loaded && !h.hasMore)) return;
    h.loading = true;
    try {
      const before = h.loaded ? (firstServerId(h.items) ?? undefined) : undefined;
      const page = await api.db.before(id, before, PAGE);
      h.items = h.loaded ? mergeMessages(h.items, page.messages) : mergeFirstPage(h.items, page);
      h.hasMore = page.hasMore;
      h.loaded = true;
      h.error = null;
    } catch (e) {
      h.error = errorMessage(e);
    } finally {
      h.loading = false;
    }
  }

  // ---- sending ---------------------------------------------------------------------------

  send(conversationId: string, body: string, attachments: Attachment[] = [], replyToId: string | null = null) {
    const me = this.me;
    const text = body.trim();
    if (!me || (!text && attachments.length === 0)) return;
    const clientMsgId = newClientMsgId();
    const message: Message = {
      id: '',
      conversationId,
      senderId: me,
      clientMsgId,
      body: text,
      attachments,
      replyToId,
      reactions: [],
      createdAt: new Date().toISOString(),
      editedAt: null,
      deletedAt: null,
    };
    const h = this.history(conversationId);
    h.items = upsertPending(h.items, { key: itemKey(message), message, state: 'pending' });
    this.outbox.add({
      conversationId,
      clientMsgId,
      body: text,
      ...(attachments.length ? { attachments: attachments.map((a) => a.fileId) } : {}),
      ...(replyToId ? { replyToId } : {}),
    });
    this.#syncOutbox();
    this.setTyping(conversationId, false);
    if (socket.connected) void this.outbox.flush();
  }

  /** Retry a failed message with the same clientMsgId. */
  retry(item: ChatItem) {
    if (!this.outbox.retry(item.message.clientMsgId)) return;
    const h = this.history(item.message.conversationId);
    h.items = setItemState(h.items, item.key, 'pending');
    if (socket.connected) void this.outbox.flush();
  }

  discard(item: ChatItem) {
    this.outbox.discard(item.message.clientMsgId);
    this.#syncOutbox();
    const h = this.history(item.message.conversationId);
    h.items = removeItem(h.items, item.key);
  }

  async #sendNow(payload: SendMessagePayload): Promise<SendResult> {
    if (!socket.connected) return { kind: 'retry' };
    let ack: Ack<{ message: Message }>;
    try {
      ack = await socket.request('message:send', payload);
    } catch {
      this.#flushLater();
      return { kind: 'retry' };
    }
    if (ack.ok) return { kind: 'ok', message: ack.message };
    if (RETRYABLE.has(ack.error.code)) {
      this.#flushLater(ack.error.code === 'rate_limited' ? 5000 : 2000);
      return { kind: 'retry' };
    }
    return { kind: 'fail', error: ack.error.message };
  }

  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  #flushLater(ms = 3000) {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      if (socket.connected) void this.outbox.flush();
    }, ms);
  }

  #syncOutbox() {
    this.outboxSize = this.outbox.size;
  }

  async edit(message: Message, body: string): Promise<string | null> {
    const text = body.trim();
    if (!text || text === message.body) return null;
    try {
      const ack = await socket.request('message:edit', { messageId: message.id, body: text });
      if (!ack.ok) return ack.error.message;
      this.#receive(ack.message);
      return null;
    } catch {
      return 'You are offline. Try again when the connection is back.';
    }
  }

  async remove(message: Message): Promise<string | null> {
    try {
      const ack = await socket.request('message:delete', { messageId: message.id });
      if (!ack.ok) return ack.error.message;
      this.#deleted(message.conversationId, message.id);
      return null;
    } catch {
      return 'You are offline. Try again when the connection is back.';
    }
  }

  async react(message: Message, emoji: string): Promise<string | null> {
    const me = this.me;
    if (!me || !message.id) return null;
    // Optimistic toggle, reconciled with the server's copy.
    const reactions = message.reactions.map((r) => ({ ...r, userIds: [...r.userIds] }));
    const r = reactions.find((x) => x.emoji === emoji);
    if (r) {
      r.userIds = r.userIds.includes(me) ? r.userIds.filter((u) => u !== me) : [...r.userIds, me];
    } else reactions.push({ emoji, userIds: [me] });
    const h = this.history(message.conversationId);
    h.items = mergeMessages(h.items, [{ ...message, reactions: reactions.filter((x) => x.userIds.length) }]);
    try {
      const ack = await socket.request('reaction:toggle', { messageId: message.id, emoji });
      if (!ack.ok) {
        h.items = mergeMessages(h.items, [message]);
        return ack.error.message;
      }
      this.#receive(ack.message);
      return null;
    } catch {
      h.items = mergeMessages(h.items, [message]);
      return 'You are offline.';
    }
  }

  // ---- typing & reads --------------------------------------------------------------------

  setTyping(conversationId: string, isTyping: boolean) {
    const cur = this.#myTyping.get(conversationId);
    const now = Date.now();
    if (!isTyping) {
      if (cur) {
        clearTimeout(cur.stop);
        this.#myTyping.delete(conversationId);
        void socket.request('typing', { conversationId, isTyping: false }).catch(() => {});
      }
      return;
    }
    if (cur) clearTimeout(cur.stop);
    const stop = setTimeout(() => this.setTyping(conversationId, false), 4000);
    if (!cur || now - cur.since > 3000) {
      this.#myTyping.set(conversationId, { since: now, stop });
      void socket.request('typing', { conversationId, isTyping: true }).catch(() => {});
    } else this.#myTyping.set(conversationId, { since: cur.since, stop });
  }

  /** Moves the read position to the newest message and clears the unread badge. */
  markRead(conversationId: string) {
    const h = this.history(conversationId);
    const last = lastServerId(h.items);
    const c = this.conversation(conversationId);
    if (c && c.unreadCount) this.#patchConversation(conversationId, { unreadCount: 0 });
    if (!last || this.#lastReadSent.get(conversationId) === last) return;
    this.#lastReadSent.set(conversationId, last);
    const me = this.me;
    if (me) this.#setRead(conversationId, me, last);
    const viaSocket = socket.connected
      ? socket.request('read', { conversationId, messageId: last }).then((a) => {
          if (!a.ok) throw new Error(a.error.message);
        })
      : Promise.reject(new Error('offline'));
    void viaSocket.catch(() => api.db.read(conversationId, last).catch(() => this.#lastReadSent.delete(conversationId)));
  }

  // ---- conversations ---------------------------------------------------------------------

  async startDirect(userId: string): Promise<Conversation> {
    const { conversation } = await api.db.createDirect(userId);
    this.#upsertConversation(conversation);
    return conversation;
  }

  async createGroup(title: string, memberIds: string[]): Promise<Conversation> {
    const { conversation } = await api.db.createGroup(title, memberIds);
    this.#upsertConversation(conversation);
    return conversation;
  }

  async addMembers(id: string, userIds: string[]) {
    const { conversation } = await api.db.addMembers(id, userIds);
    this.#upsertConversation(conversation);
  }

  async removeMember(id: string, userId: string) {
    await api.db.removeMember(id, userId);
    if (userId === this.me) this.#removeConversation(id);
    else {
      const c = this.conversation(id);
      if (c) this.#patchConversation(id, { members: c.members.filter((m) => m.id !== userId) });
    }
  }

  async setMuted(id: string, muted: boolean) {
    if (muted) this.muted.add(id);
    else this.muted.delete(id);
    try {
      await api.notification.mute(id, muted);
    } catch (e) {
      if (muted) this.muted.delete(id);
      else this.muted.add(id);
      throw e;
    }
  }

  // ---- uploads ---------------------------------------------------------------------------

  uploadsFor(id: string): Upload[] {
    return this.uploads.get(id) ?? [];
  }

  upload(conversationId: string, files: Iterable<File>) {
    const list = [...this.uploadsFor(conversationId)];
    for (const file of files) {
      if (list.length >= LIMITS.attachmentsMax) break;
      const up = new Upload(conversationId, file);
      list.push(up);
      void this.#runUpload(up);
    }
    this.uploads.set(conversationId, list);
  }

  async #runUpload(up: Upload) {
    try {
      const ticket = await api.file.start(up.conversationId, up.file);
      await putWithProgress(ticket, up.file, (f) => (up.progress = f), up.abort.signal);
      const { file } = await api.file.complete(ticket.fileId);
      up.attachment = file;
      up.state = 'done';
    } catch (e) {
      up.state = 'error';
      up.error = errorMessage(e);
    }
  }

  removeUpload(up: Upload) {
    up.abort.abort();
    this.uploads.set(
      up.conversationId,
      this.uploadsFor(up.conversationId).filter((u) => u !== up),
    );
  }

  clearUploads(conversationId: string) {
    this.uploads.delete(conversationId);
  }

  // ---- incoming --------------------------------------------------------------------------

  #receive(message: Message) {
    const id = message.conversationId;
    // Kept even for a conversation not opened yet: its first page, read when it is opened, may
    // not hold this message yet. Until then only the newest page's worth is kept.
    const h = this.history(id);
    const isNew = !h.byId.has(message.id);
    const merged = mergeMessages(h.items, [message]);
    h.items = h.loaded || merged.length <= PAGE ? merged : merged.slice(-PAGE);
    if (message.senderId === this.me) this.outbox.acknowledge(message.clientMsgId);
    this.#syncOutbox();

    const c = this.conversation(id);
    if (!c) {
      void api.db
        .conversation(id)
        .then(({ conversation }) => this.#upsertConversation(conversation))
        .catch(() => {});
      return;
    }
    const patch: Partial<Conversation> = {};
    const newest = !c.lastMessage || c.lastMessage.id === message.id || c.lastMessage.createdAt <= message.createdAt;
    if (newest) patch.lastMessage = message;
    if (isNew && newest && c.lastMessage?.id !== message.id && message.senderId !== this.me) {
      this.#setRead(id, message.senderId, message.id);
      this.#clearTyping(id, message.senderId);
      const watching =
        this.activeId === id && this.viewingLatest && typeof document !== 'undefined' && document.visibilityState === 'visible';
      if (!watching) patch.unreadCount = (c.unreadCount || 0) + 1;
    }
    if (Object.keys(patch).length) this.#patchConversation(id, patch);
    if (isNew && this.activeId === id && this.viewingLatest && message.senderId !== this.me) {
      if (typeof document === 'undefined' || document.visibilityState === 'visible') queueMicrotask(() => this.markRead(id));
    }
  }

  #deleted(conversationId: string, messageId: string) {
    const h = this.#histories.get(conversationId);
    if (h) h.items = applyDeleted(h.items, messageId);
    const c = this.conversation(conversationId);
    if (c?.lastMessage?.id === messageId) {
      this.#patchConversation(conversationId, {
        lastMessage: { ...c.lastMessage, body: '', attachments: [], deletedAt: new Date().toISOString() },
      });
    }
  }

  #typingEvent(conversationId: string, userId: string, isTyping: boolean) {
    if (userId === this.me) return;
    const k = `${conversationId}|${userId}`;
    const t = this.#typingTimers.get(k);
    if (t) clearTimeout(t);
    if (!isTyping) return this.#clearTyping(conversationId, userId);
    const cur = this.typing.get(conversationId) ?? [];
    if (!cur.includes(userId)) this.typing.set(conversationId, [...cur, userId]);
    // The server stops a typing state after 6 s without renewal; so do we.
    this.#typingTimers.set(
      k,
      setTimeout(() => this.#clearTyping(conversationId, userId), LIMITS.typingTimeoutMs),
    );
  }

  #clearTyping(conversationId: string, userId: string) {
    const cur = this.typing.get(conversationId);
    if (!cur?.includes(userId)) return;
    const next = cur.filter((u) => u !== userId);
    if (next.length) this.typing.set(conversationId, next);
    else this.typing.delete(conversationId);
  }

  #readEvent(conversationId: string, userId: string, messageId: string) {
    this.#setRead(conversationId, userId, messageId);
    if (userId === this.me) this.#patchConversation(conversationId, { unreadCount: 0 });
  }

  #setRead(conversationId: string, userId: string, messageId: string) {
    const cur = this.reads.get(conversationId) ?? {};
    if (cur[userId] === messageId) return;
    this.reads.set(conversationId, { ...cur, [userId]: messageId });
  }

  #absorbExtensions(c: Conversation) {
    const ext = c as ConversationExt;
    if (ext.readPositions) for (const r of ext.readPositions) this.#setRead(c.id, r.userId, r.messageId);
    if (ext.muted === true) this.muted.add(c.id);
    else if (ext.muted === false) this.muted.delete(c.id);
  }

  #upsertConversation(conversation: Conversation) {
    this.#absorbExtensions(conversation);
    const i = this.conversations.findIndex((c) => c.id === conversation.id);
    if (i < 0) this.conversations = [...this.conversations, conversation];
    else {
      const next = this.conversations.slice();
      next[i] = conversation;
      this.conversations = next;
    }
  }

  #patchConversation(id: string, patch: Partial<Conversation>) {
    this.conversations = this.conversations.map((c) => (c.id === id ? { ...c, ...patch } : c));
  }

  #removeConversation(id: string) {
    this.conversations = this.conversations.filter((c) => c.id !== id);
    this.#histories.delete(id);
    if (this.activeId === id) this.activeId = null;
  }
}

export const chat = new ChatStore();

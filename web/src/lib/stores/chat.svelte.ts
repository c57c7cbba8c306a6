import type { Ack, SendMessagePayload } from '@chat/shared/events/socket';
import { plainMessageFields, type Attachment, type Conversation, type HistoryPage as Page, type Message, type NotificationLevel, type User } from '@chat/shared/models/types';
import { errorMessage } from '../api/errors.ts';
import {
  applyDeleted,
  catchUp,
  catchUpCursor,
  firstServerId,
  itemKey,
  lastServerId,
  mergeFirstPage,
  mergeMessages,
  removeItem,
  setItemState,
  upsertPending,
  withoutMessage,
  type ChatItem,
} from '../utils/messages.ts';
import { firstUnread } from '../utils/anchor.ts';
import { newClientMsgId } from '../utils/format.ts';
import { api, auth } from './auth.svelte.ts';
import { ConversationsStore } from './conversations.svelte.ts';
import { incomingPatch, ownReadClears, supersededPatch, withUpdate } from './conversations.ts';
import { describeSystem } from '../utils/system.ts';
import { History } from './history.svelte.ts';
import { Outbox, type SendResult } from './outbox.ts';
import { PresenceStore } from './presence.svelte.ts';
import { socket } from './socket.svelte.ts';
import { conversationOf, inChannel, streamKey, streamsOf, summaryWithReply, threadRootOf, withLatestSummary } from './threads.ts';
import { ThreadsStore } from './threads.svelte.ts';
import { UploadsStore } from './uploads.svelte.ts';

export { History } from './history.svelte.ts';
export type { Upload } from './uploads.svelte.ts';

const PAGE = 50;
/** How long after a (re)connect the list is read again (the store lags acks by well under this). */
const SETTLE_MS = 1500;
const RETRYABLE = new Set(['unavailable', 'internal', 'rate_limited']);

export function conversationTitle(c: Conversation, me: string | null): string {
  if (c.type === 'group') return c.title || c.members.map((m) => m.displayName).join(', ') || 'Group';
  const other = c.members.find((m) => m.id !== me) ?? c.members[0];
  return other?.displayName ?? 'Direct message';
}

export function otherMember(c: Conversation, me: string | null): User | undefined {
  return c.type === 'direct' ? c.members.find((m) => m.id !== me) : undefined;
}

/** Performance marks of a cold load's steps (the browser suite reads them; so can a profiler). */
const mark = (name: string) => globalThis.performance?.mark?.(name);

const visible = () => typeof document === 'undefined' || document.visibilityState === 'visible';

/**
 * The chat session: wires the connection (socket.svelte.ts) to the parts that hold state, each
 * its own module with its rules unit-tested beside it: the conversation list
 * (conversations.svelte.ts / conversations.ts), each conversation's messages (history.svelte.ts
 * / utils/messages.ts), the outbox (outbox.ts), presence and typing (presence.svelte.ts /
 * presence.ts) and uploads (uploads.svelte.ts).
 */
class ChatStore {
  readonly conversations = new ConversationsStore();
  readonly presence = new PresenceStore();
  readonly uploads = new UploadsStore();
  readonly threads = new ThreadsStore();
  activeId = $state<string | null>(null);
  /** The open conversation is scrolled to its newest message (set by the message list). */
  viewingLatest = $state(false);
  outboxSize = $state(0);
  /** When the connection last dropped: presence is "last seen" from then on. */
  disconnectedAt = $state<string | null>(null);

  #histories = new Map<string, History>();
  #listSeq = 0;
  /** When the list was last asked for (performance.now()): a connect right after it need not ask again. */
  #listAskedAt = -Infinity;
  #listApplied = 0;
  /** Requests a cold load starts the moment the session is restored (see warm()). */
  #warmList: Promise<{ conversations: Conversation[] }> | undefined;
  #warmConversation = new Map<string, Promise<{ conversation: Conversation }>>();
  #warmPage = new Map<string, Promise<Page>>();
  #settle: ReturnType<typeof setTimeout> | null = null;
  #myTyping = new Map<string, { since: number; stop: ReturnType<typeof setTimeout> }>();
  #lastReadSent = new Map<string, string>();
  #started = false;
  #cleanup: (() => void)[] = [];

  readonly outbox: Outbox = new Outbox((p) => this.#sendNow(p), {
    sent: (_entry, message) => {
      this.#syncOutbox();
      this.#receive(message);
    },
    failed: (entry, error) => {
      this.#syncOutbox();
      const h = this.history(streamKey(entry.payload.conversationId, entry.payload.threadRootId));
      h.items = setItemState(h.items, `${auth.userId}:${entry.payload.clientMsgId}`, 'failed', error);
    },
    changed: () => this.#syncOutbox(),
  });

  get me(): string | null {
    return auth.userId;
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
    return this.conversations.get(id);
  }

  user(id: string): User | undefined {
    return this.conversations.users.get(id) ?? (auth.user?.id === id ? auth.user : undefined);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  start() {
    if (this.#started) return;
    this.#started = true;
    const s = socket.connect();
    s.on('message:new', ({ message }) => this.#receive(message));
    s.on('message:updated', ({ message }) => this.#receive(message));
    s.on('message:deleted', ({ conversationId, messageId }) => this.#deleted(conversationId, messageId));
    s.on('message:superseded', ({ conversationId, messageId, message }) => this.#superseded(conversationId, messageId, message));
    // A typing event in a thread names it: it goes to that thread's typers, not the channel's.
    s.on('typing', ({ conversationId, userId, isTyping, threadRootId }) => userId !== this.me && this.presence.typing(streamKey(conversationId, threadRootId), userId, isTyping));
    s.on('presence', ({ userId, status, lastSeen }) => this.presence.set(userId, status, lastSeen));
    s.on('read', ({ conversationId, userId, messageId, threadRootId }) => {
      // A thread's read position is its own: the conversation's is untouched. Mine, moved on
      // another device, takes the thread off my unread list here too.
      if (!threadRootId) this.#readEvent(conversationId, userId, messageId);
      else if (userId === this.me) this.threads.read(streamKey(conversationId, threadRootId));
    });
    s.on('conversation:new', ({ conversation }) => this.conversations.upsert(conversation));
    s.on('conversation:updated', ({ conversation }) => this.conversations.upsert(withUpdate(this.conversation(conversation.id), conversation)));
    s.on('user:updated', ({ user }) => {
      this.conversations.updateUser(user);
      if (auth.userId === user.id) auth.user = user;
    });
    s.on('conversation:removed', ({ conversationId }) => this.#removeConversation(conversationId, 'removed'));
    this.#cleanup.push(
      socket.onDisconnect(() => {
        this.disconnectedAt = new Date().toISOString();
        this.#markCursors();
      }),
      socket.onConnect(() => {
        this.disconnectedAt = null;
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
    this.conversations.clear();
    this.activeId = null;
    this.#histories.clear();
    this.#lastReadSent.clear();
    this.#warmList = undefined;
    this.#listAskedAt = -Infinity;
    this.#warmConversation.clear();
    this.#warmPage.clear();
    this.presence.clear();
    this.uploads.forget();
    this.threads.clear();
    for (const e of [...this.outbox.list()]) this.outbox.discard(e.payload.clientMsgId);
    this.#syncOutbox();
  }

  /**
   * A cold load: the session is restored and /me is on its way. The list and, for a conversation
   * URL, that conversation and its first page are asked for now, in parallel with /me, and the
   * store takes these answers when it first needs them.
   */
  warm(path: string) {
    const quiet = <T>(p: Promise<T>) => {
      // An answer nobody takes (the person navigated away) fails without an unhandled rejection.
      p.catch(() => {});
      return p;
    };
    this.#warmList = quiet(api.db.conversations());
    this.#listAskedAt = performance.now();
    const m = /^\/c\/([^/]+)$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      this.#warmConversation.set(id, quiet(api.db.conversation(id)));
      this.#warmPage.set(id, quiet(api.db.before(id, undefined, PAGE)));
    }
  }

  #take<T>(map: Map<string, Promise<T>>, id: string): Promise<T> | undefined {
    const p = map.get(id);
    map.delete(id);
    return p;
  }

  async loadConversations() {
    const seq = ++this.#listSeq;
    const warm = this.#warmList;
    this.#warmList = undefined;
    try {
      if (!warm) this.#listAskedAt = performance.now();
      const { conversations } = await (warm ?? api.db.conversations());
      // An answer older than one already applied is stale; any newer one is taken (waiting for
      // the newest of several in flight would keep the sidebar empty for longer).
      if (seq < this.#listApplied) return;
      this.#listApplied = seq;
      if (!this.conversations.loaded) mark('chat:list');
      this.conversations.replace(conversations, seq);
      // Opened before the list came (a cold load of its URL): its unread divider can be placed now.
      if (this.activeId) this.#placeDivider(this.activeId);
    } catch (e) {
      this.conversations.error = errorMessage(e);
    }
  }

  /** When the connection drops, remember where each loaded history is known to be complete. */
  #markCursors() {
    for (const h of this.#histories.values()) if (h.loaded && !h.hasMoreAfter && !h.cursor) h.cursor = catchUpCursor(h.items);
  }

  /** After any (re)connect: refresh the list, catch every loaded conversation up with `after=`. */
  async #resync() {
    // The list is read again after every connection: a list fetched before the socket joined
    // its rooms misses messages sent in between (wrong unread counts and previews). A message
    // acked just before the join may reach the store a moment after a read, so it is read once
    // more when that moment has passed. A list asked for less than that moment ago (a cold load
    // asks before the socket connects) is not asked for again at once: the settled read covers
    // what it may miss, and a second read would compete with the first page for the db function.
    void this.threads.load();
    if (performance.now() - this.#listAskedAt >= SETTLE_MS) await this.loadConversations();
    if (this.#settle) clearTimeout(this.#settle);
    this.#settle = setTimeout(() => void this.loadConversations(), SETTLE_MS);
    await Promise.all(
      [...this.#histories.entries()].map(async ([id, h]) => {
        // A list opened at an older message reaches the newest by paging forward itself.
        if (!h.loaded || h.hasMoreAfter) return;
        const cursor = h.cursor ?? catchUpCursor(h.items);
        if (!cursor) return;
        try {
          const res = await catchUp(cursor, (after) => this.#page(id, { after, limit: 100 }));
          if (res.complete) {
            h.items = mergeMessages(h.items, res.messages);
          } else {
            // Too far behind: start again from the newest page.
            const page = await this.#page(id, { limit: PAGE });
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
    if (this.activeId && this.viewingLatest && visible()) this.markRead(this.activeId);
    if (this.threads.openKey && this.threads.viewingLatest && visible()) this.markThreadRead(this.threads.openKey);
  }

  /** A page of a stream: a conversation's channel or one of its threads (see threads.ts). */
  #page(key: string, q: { before?: string | undefined; after?: string | undefined; limit: number }): Promise<Page> {
    const id = conversationOf(key);
    const rootId = threadRootOf(key);
    if (rootId)
      return api.db.thread(id, rootId, q).then((page) => {
        this.threads.putRoot(page.root);
        return page;
      });
    return q.after ? api.db.after(id, q.after, q.limit) : api.db.before(id, q.before, q.limit);
  }

  // ---- history ---------------------------------------------------------------------------

  /**
   * Opens a conversation. Its first history page and (when the list does not hold it yet) the
   * conversation itself are asked for at once, and each renders when it comes: the messages
   * never wait for the header, the list or each other.
   */
  async open(id: string, at?: string) {
    this.activeId = id;
    this.viewingLatest = false;
    const h = this.history(id);
    h.firstUnreadKey = null;
    h.unreadResolved = false;
    // A message asked for on an earlier visit is not asked for again.
    h.focus = null;
    if (at) return this.#openAt(id, at);
    const known = !!this.conversation(id);
    const warmed = this.#take(this.#warmConversation, id);
    const conversation = known
      ? Promise.resolve()
      : (warmed ?? api.db.conversation(id)).then(
          ({ conversation }) => this.conversations.upsert(conversation),
          (e) => {
            h.error = errorMessage(e);
          },
        );
    // A list left at an older message (a search result) opens at the newest again, like a first
    // visit: only the outbox's items and what arrived live are kept for the first page to join.
    if (h.loaded && h.hasMoreAfter) {
      h.items = mergeMessages(
        h.items.filter((it) => it.state !== 'sent'),
        h.held,
      );
      h.held = [];
      h.hasMoreAfter = false;
      h.loaded = false;
    }
    const page = h.loaded ? Promise.resolve() : this.loadOlder(id);
    // The divider needs the unread count at opening, before reading clears it.
    this.#unreadAtOpen.set(id, this.conversation(id)?.unreadCount ?? null);
    await Promise.all([conversation, page]);
    this.#placeDivider(id);
  }

  #unreadAtOpen = new Map<string, number | null>();

  /** Opened at a message: no unread divider (the reader went to that message, not to the news). */
  async #openAt(id: string, messageId: string) {
    const h = this.history(id);
    this.#unreadAtOpen.delete(id);
    h.unreadResolved = true;
    const conversation = this.conversation(id)
      ? Promise.resolve()
      : (this.#take(this.#warmConversation, id) ?? api.db.conversation(id)).then(
          ({ conversation }) => this.conversations.upsert(conversation),
          () => {},
        );
    this.#warmPage.delete(id);
    const error = await this.jumpTo(id, messageId);
    if (error && !h.loaded) h.error = error;
    await conversation;
    return error;
  }

  #focusSeq = 0;

  /**
   * Shows a message of a conversation, highlighted: at once when the list holds it, else the page
   * around it replaces the list, which then pages both ways from there (`hasMoreAfter`). Answers
   * an error to show, or null.
   */
  async jumpTo(id: string, messageId: string): Promise<string | null> {
    const h = this.history(id);
    if (!h.byId.has(messageId)) {
      try {
        const page = await api.db.around(id, messageId, PAGE);
        // Only what is still in the outbox survives: the rest may not join the new window.
        h.items = mergeMessages(
          h.items.filter((it) => it.state !== 'sent'),
          page.messages,
        );
        h.hasMore = page.hasMoreBefore;
        h.hasMoreAfter = page.hasMoreAfter;
        if (!page.hasMoreAfter) this.#mergeHeld(h);
        h.loaded = true;
        h.error = null;
        h.cursor = null;
      } catch (e) {
        return errorMessage(e);
      }
    }
    h.focus = { id: messageId, seq: ++this.#focusSeq };
    return null;
  }

  /** The next newer page of a list opened at an older message; live again once it is the newest. */
  async loadNewer(id: string) {
    const h = this.history(id);
    const after = lastServerId(h.items);
    if (!h.hasMoreAfter || h.loadingNewer || !after) return;
    h.loadingNewer = true;
    try {
      const page = await this.#page(id, { after, limit: 100 });
      h.items = mergeMessages(h.items, page.messages);
      h.hasMoreAfter = page.hasMore;
      if (!page.hasMore) this.#mergeHeld(h);
    } catch (e) {
      h.error = errorMessage(e);
    } finally {
      h.loadingNewer = false;
    }
  }

  #toLatest = new Map<string, Promise<void>>();

  /** Back to the newest messages from a list opened at an older one (one request at a time). */
  jumpToLatest(id: string): Promise<void> {
    let p = this.#toLatest.get(id);
    if (!p) {
      p = this.#loadLatest(id).finally(() => this.#toLatest.delete(id));
      this.#toLatest.set(id, p);
    }
    return p;
  }

  async #loadLatest(id: string) {
    const h = this.history(id);
    if (!h.hasMoreAfter) return;
    h.loadingNewer = true;
    try {
      const page = await this.#page(id, { limit: PAGE });
      const held = h.held;
      h.held = [];
      h.items = mergeFirstPage(
        mergeMessages(
          h.items.filter((it) => it.state !== 'sent'),
          held,
        ),
        page,
      );
      h.hasMore = page.hasMore;
      h.hasMoreAfter = false;
    } catch (e) {
      h.error = errorMessage(e);
    } finally {
      h.loadingNewer = false;
    }
  }

  #mergeHeld(h: History) {
    h.items = mergeMessages(h.items, h.held);
    h.held = [];
  }

  /** Puts the "New messages" divider once both the first page and the unread count are known. */
  #placeDivider(id: string) {
    const h = this.history(id);
    const c = this.conversation(id);
    if (!h.loaded || !c || this.activeId !== id) return;
    let count = this.#unreadAtOpen.get(id);
    if (count === undefined) return; // placed already
    if (count === null) count = c.unreadCount;
    this.#unreadAtOpen.delete(id);
    const mine = this.me ? (this.conversations.reads.get(id)?.[this.me] ?? null) : null;
    h.firstUnreadKey = firstUnread(h.items, this.me, count, mine);
    h.unreadResolved = true;
  }

  async loadOlder(id: string) {
    const h = this.history(id);
    if (h.loading || (h.loaded && !h.hasMore)) return;
    h.loading = true;
    try {
      const before = h.loaded ? (firstServerId(h.items) ?? undefined) : undefined;
      const page = await ((before === undefined ? this.#take(this.#warmPage, id) : undefined) ?? this.#page(id, { before, limit: PAGE }));
      h.items = h.loaded ? mergeMessages(h.items, page.messages) : mergeFirstPage(h.items, page);
      h.hasMore = page.hasMore;
      if (!h.loaded) mark('chat:first-page');
      h.loaded = true;
      h.error = null;
    } catch (e) {
      h.error = errorMessage(e);
    } finally {
      h.loading = false;
    }
  }

  // ---- sending ---------------------------------------------------------------------------

  send(conversationId: string, body: string, attachments: Attachment[] = [], replyToId: string | null = null, thread?: { rootId: string; alsoToChannel: boolean }) {
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
      ...plainMessageFields(),
      threadRootId: thread?.rootId ?? null,
    };
    const stream = streamKey(conversationId, thread?.rootId);
    const h = this.history(stream);
    // A message is written at the end of the conversation: back to it from an older place.
    if (!thread && h.hasMoreAfter) void this.jumpToLatest(conversationId);
    h.items = upsertPending(h.items, { key: itemKey(message), message, state: 'pending' });
    this.outbox.add({
      conversationId,
      clientMsgId,
      body: text,
      ...(attachments.length ? { attachments: attachments.map((a) => a.fileId) } : {}),
      ...(replyToId ? { replyToId } : {}),
      ...(thread ? { threadRootId: thread.rootId, ...(thread.alsoToChannel ? { alsoToChannel: true } : {}) } : {}),
    });
    this.#syncOutbox();
    this.setTyping(stream, false);
    // Replying in a thread follows it (the server records that with the reply).
    if (thread && this.threads.following.has(stream)) this.threads.following.set(stream, true);
    if (socket.connected) void this.outbox.flush();
  }

  /** Retry a failed message with the same clientMsgId. */
  retry(item: ChatItem) {
    if (!this.outbox.retry(item.message.clientMsgId)) return;
    const h = this.history(streamKey(item.message.conversationId, item.message.threadRootId));
    h.items = setItemState(h.items, item.key, 'pending');
    if (socket.connected) void this.outbox.flush();
  }

  discard(item: ChatItem) {
    this.outbox.discard(item.message.clientMsgId);
    this.#syncOutbox();
    const h = this.history(streamKey(item.message.conversationId, item.message.threadRootId));
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
    const put = (m: Message) => {
      for (const key of streamsOf(m)) this.history(key).items = mergeMessages(this.history(key).items, [m]);
    };
    put({ ...message, reactions: reactions.filter((x) => x.userIds.length) });
    try {
      const ack = await socket.request('reaction:toggle', { messageId: message.id, emoji });
      if (!ack.ok) {
        put(message);
        return ack.error.message;
      }
      this.#receive(ack.message);
      return null;
    } catch {
      put(message);
      return 'You are offline.';
    }
  }

  // ---- typing & reads --------------------------------------------------------------------

  /** Typing in a stream (a conversation's channel or one of its threads: see threads.ts). */
  setTyping(stream: string, isTyping: boolean) {
    const cur = this.#myTyping.get(stream);
    const now = Date.now();
    const conversationId = conversationOf(stream);
    // Typing in a thread's composer names the thread, so only that thread's panel shows it.
    const rootId = threadRootOf(stream);
    const where = rootId ? { conversationId, threadRootId: rootId } : { conversationId };
    if (!isTyping) {
      if (cur) {
        clearTimeout(cur.stop);
        this.#myTyping.delete(stream);
        void socket.request('typing', { ...where, isTyping: false }).catch(() => {});
      }
      return;
    }
    if (cur) clearTimeout(cur.stop);
    const stop = setTimeout(() => this.setTyping(stream, false), 4000);
    if (!cur || now - cur.since > 3000) {
      this.#myTyping.set(stream, { since: now, stop });
      void socket.request('typing', { ...where, isTyping: true }).catch(() => {});
    } else this.#myTyping.set(stream, { since: cur.since, stop });
  }

  /** Moves the read position to the newest message and clears the unread badge. */
  markRead(conversationId: string) {
    const h = this.history(conversationId);
    // Nothing on screen yet, or the unread divider not placed: nothing has been read. Nor while
    // an older part is shown: the newest messages are not on screen.
    if (!h.loaded || h.hasMoreAfter || (this.activeId === conversationId && !h.unreadResolved)) return;
    const last = lastServerId(h.items);
    const c = this.conversation(conversationId);
    if (c && (c.unreadCount || c.unreadMentionCount)) this.conversations.patch(conversationId, { unreadCount: 0, unreadMentionCount: 0 });
    if (!last || this.#lastReadSent.get(conversationId) === last) return;
    this.#lastReadSent.set(conversationId, last);
    const me = this.me;
    if (me) this.conversations.setRead(conversationId, me, last);
    const viaSocket = socket.connected
      ? socket.request('read', { conversationId, messageId: last }).then((a) => {
          if (!a.ok) throw new Error(a.error.message);
        })
      : Promise.reject(new Error('offline'));
    void viaSocket.catch(() => api.db.read(conversationId, last).catch(() => this.#lastReadSent.delete(conversationId)));
  }

  // ---- threads ---------------------------------------------------------------------------

  /** The thread's root as the client holds it: its channel's copy, or one the threads store fetched. */
  threadRoot(conversationId: string, rootId: string): Message | undefined {
    return this.#histories.get(conversationId)?.byId.get(rootId) ?? this.threads.root(conversationId, rootId);
  }

  /** Opens a thread's panel: its newest replies and, when the client does not hold it, its root, at once. */
  async openThread(conversationId: string, rootId: string) {
    const key = streamKey(conversationId, rootId);
    this.threads.openKey = key;
    this.threads.viewingLatest = false;
    const h = this.history(key);
    // A thread has no "New messages" divider: reading may be reported as soon as it is on screen.
    h.unreadResolved = true;
    const view = this.threads.view(conversationId, rootId).catch((e) => {
      h.error = errorMessage(e);
    });
    await Promise.all([view, h.loaded ? Promise.resolve() : this.loadOlder(key)]);
  }

  closeThread(key: string) {
    if (this.threads.openKey !== key) return;
    this.threads.openKey = null;
    this.threads.viewingLatest = false;
  }

  /** Moves my read position in a thread to its newest reply (its own, apart from the conversation's). */
  markThreadRead(key: string) {
    const h = this.history(key);
    if (!h.loaded) return;
    this.threads.read(key);
    const last = lastServerId(h.items);
    if (!last || this.#lastReadSent.get(key) === last) return;
    this.#lastReadSent.set(key, last);
    const conversationId = conversationOf(key);
    const threadRootId = threadRootOf(key)!;
    const viaSocket = socket.connected
      ? socket.request('read', { conversationId, messageId: last, threadRootId }).then((a) => {
          if (!a.ok) throw new Error(a.error.message);
        })
      : Promise.reject(new Error('offline'));
    void viaSocket.catch(() => api.db.threadRead(conversationId, threadRootId, last).catch(() => this.#lastReadSent.delete(key)));
  }

  // ---- conversations ---------------------------------------------------------------------

  async startDirect(userId: string): Promise<Conversation> {
    const { conversation } = await api.db.createDirect(userId);
    this.conversations.upsert(conversation);
    return conversation;
  }

  async createGroup(title: string, memberIds: string[]): Promise<Conversation> {
    const { conversation } = await api.db.createGroup(title, memberIds);
    this.conversations.upsert(conversation);
    return conversation;
  }

  async addMembers(id: string, userIds: string[]) {
    const { conversation } = await api.db.addMembers(id, userIds);
    this.conversations.upsert(conversation);
  }

  async rename(id: string, title: string) {
    const { conversation } = await api.db.rename(id, title);
    this.conversations.upsert(withUpdate(this.conversation(id), conversation));
  }

  async setAdmin(id: string, userId: string, admin: boolean) {
    const { conversation } = await api.db.setAdmin(id, userId, admin);
    this.conversations.upsert(withUpdate(this.conversation(id), conversation));
  }

  /** A system message's line, with "You" for the reader and names of members past and present. */
  systemText(message: Message): string {
    if (!message.system) return '';
    return describeSystem(message.system, (u) => (u === this.me ? 'You' : (this.user(u)?.displayName ?? 'A former member')));
  }

  async removeMember(id: string, userId: string) {
    await api.db.removeMember(id, userId);
    if (userId === this.me) this.#removeConversation(id, 'left');
    else {
      const c = this.conversation(id);
      if (c) this.conversations.patch(id, { members: c.members.filter((m) => m.id !== userId) });
    }
  }

  async setNotificationLevel(id: string, level: NotificationLevel) {
    const before = this.conversations.level(id);
    this.conversations.levels.set(id, level);
    try {
      await api.notification.level(id, level);
    } catch (e) {
      this.conversations.levels.set(id, before);
      throw e;
    }
  }

  // ---- incoming --------------------------------------------------------------------------

  #receive(incoming: Message) {
    const id = incoming.conversationId;
    const streams = streamsOf(incoming);
    // A root's copy keeps the later of its summaries (live replies may be ahead of this copy).
    const message = incoming.threadRootId ? incoming : withLatestSummary(this.#histories.get(id)?.byId.get(incoming.id), incoming);
    const isNew = !this.#shown(message);
    for (const key of streams) {
      // Kept even for a stream not opened yet: its first page, read when it is opened, may not
      // hold this message yet. Until then only the newest page's worth is kept.
      const h = this.history(key);
      if (h.hasMoreAfter && !h.byId.has(message.id)) {
        // Not live: it waits (see History.held); an own message leaves the outbox's place meanwhile.
        h.held = [...h.held.filter((m) => m.id !== message.id), message];
        h.items = removeItem(h.items, itemKey(message));
        continue;
      }
      const merged = mergeMessages(h.items, [message]);
      h.items = h.loaded || merged.length <= PAGE ? merged : merged.slice(-PAGE);
    }
    if (message.senderId === this.me) this.outbox.acknowledge(message.clientMsgId);
    this.#syncOutbox();
    if (message.thread || this.threads.root(id, message.id)) this.threads.putRoot(message);
    if (message.threadRootId) this.#threadReply(message, isNew);
    if (!inChannel(message)) return;

    const c = this.conversation(id);
    if (!c) {
      // A conversation that just left this client stays gone (a late event must not bring it back).
      if (this.conversations.departed.has(id)) return;
      void api.db
        .conversation(id)
        .then(({ conversation }) => this.conversations.upsert(conversation))
        .catch(() => {});
      return;
    }
    const watching = this.activeId === id && this.viewingLatest && visible();
    const { patch, countsAsNew } = incomingPatch(c, message, { me: this.me, isNew, watching });
    if (countsAsNew) {
      this.conversations.setRead(id, message.senderId, message.id);
      this.presence.typing(id, message.senderId, false);
    }
    if (Object.keys(patch).length) this.conversations.patch(id, patch);
    if (isNew && watching && message.senderId !== this.me) queueMicrotask(() => this.markRead(id));
  }

  /** A reply moves its root's summary on (the channel's copy and the threads store's). */
  #threadReply(reply: Message, isNew: boolean) {
    const rootId = reply.threadRootId!;
    const channel = this.#histories.get(reply.conversationId);
    const root = channel?.byId.get(rootId);
    if (channel && root && isNew) channel.items = mergeMessages(channel.items, [{ ...root, thread: summaryWithReply(root.thread, reply) }]);
    this.threads.reply(reply, { me: this.me, isNew, root: root ?? this.threads.root(reply.conversationId, rootId) });
    const key = streamKey(reply.conversationId, rootId);
    if (isNew) {
      this.presence.typing(key, reply.senderId, false);
      this.presence.typing(reply.conversationId, reply.senderId, false);
    }
    if (isNew && reply.senderId !== this.me && this.threads.openKey === key && this.threads.viewingLatest && visible()) queueMicrotask(() => this.markThreadRead(key));
  }

  /** Whether a message is already in its first stream's list (what makes an arrival new). */
  #shown(m: Message): boolean {
    return this.#histories.get(streamsOf(m)[0]!)?.byId.has(m.id) ?? false;
  }

  /** The histories of a conversation: its channel's and its threads'. */
  *#historiesOf(conversationId: string): Iterable<[string, History]> {
    for (const entry of this.#histories) if (conversationOf(entry[0]) === conversationId) yield entry;
  }

  #deleted(conversationId: string, messageId: string) {
    // The message may be in the channel or in any of the conversation's threads.
    for (const [, h] of this.#historiesOf(conversationId)) {
      h.items = applyDeleted(h.items, messageId);
      h.held = h.held.filter((m) => m.id !== messageId);
    }
    const root = this.threads.root(conversationId, messageId);
    if (root) this.threads.putRoot({ ...root, body: '', attachments: [], deletedAt: new Date().toISOString() });
    const c = this.conversation(conversationId);
    if (c?.lastMessage?.id === messageId) {
      this.conversations.patch(conversationId, {
        lastMessage: { ...c.lastMessage, body: '', attachments: [], deletedAt: new Date().toISOString() },
      });
    }
  }

  /**
   * The store never kept `droppedId` (a resend that got a new id after the gateway lost its send
   * ledger): that copy goes, and `kept`, the one stored for the same sender and clientMsgId, is
   * taken as any incoming message. An own send still in the outbox is acknowledged by it.
   */
  #superseded(conversationId: string, droppedId: string, kept: Message) {
    const keptSeen = this.#shown(kept);
    for (const [, h] of this.#historiesOf(conversationId)) {
      h.items = withoutMessage(h.items, droppedId);
      h.held = h.held.filter((m) => m.id !== droppedId);
    }
    const c = this.conversation(conversationId);
    if (c) {
      const patch = supersededPatch(c, droppedId, kept, { me: this.me, keptSeen });
      if (Object.keys(patch).length) this.conversations.patch(conversationId, patch);
    }
    this.#receive(kept);
  }

  #readEvent(conversationId: string, userId: string, messageId: string) {
    this.conversations.setRead(conversationId, userId, messageId);
    const c = this.conversation(conversationId);
    if (userId === this.me && c && ownReadClears(c, messageId)) this.conversations.patch(conversationId, { unreadCount: 0, unreadMentionCount: 0 });
  }

  #removeConversation(id: string, why: 'left' | 'removed') {
    this.conversations.remove(id, why, this.#listSeq);
    for (const [key] of [...this.#historiesOf(id)]) this.#histories.delete(key);
    this.#lastReadSent.delete(id);
    this.uploads.forget(id);
  }
}

export const chat = new ChatStore();

if (typeof location !== 'undefined') auth.onRestore(() => chat.warm(location.pathname));

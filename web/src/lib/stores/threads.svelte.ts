import { SvelteMap } from 'svelte/reactivity';
import type { Message } from '@chat/shared/models/types';
import { errorMessage } from '../api/errors.ts';
import { api } from './auth.svelte.ts';
import { listWithRead, listWithReply, listWithRoot, mayFollow, sortThreads, streamKey, summaryWithReply, unreadThreads, withLatestSummary, type ThreadEntry } from './threads.ts';

/** How long live replies that may have made me follow a thread are gathered before the list is read again. */
const RELIST_MS = 400;

/**
 * The threads side of the session (rules in threads.ts): the open thread, the roots the client
 * knows (for a panel opened from the Threads view or a link, whose root is not in the channel's
 * loaded pages) and the followed threads with unread replies.
 */
export class ThreadsStore {
  /** The open thread's stream key, or null. */
  openKey = $state<string | null>(null);
  /** The open thread is scrolled to its newest reply (set by its message list). */
  viewingLatest = $state(false);
  list = $state.raw<ThreadEntry[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  readonly unread = $derived(unreadThreads(this.list));
  /** Thread key -> root. */
  readonly roots = new SvelteMap<string, Message>();

  #seq = 0;
  #relist: ReturnType<typeof setTimeout> | null = null;

  root(conversationId: string, rootId: string): Message | undefined {
    return this.roots.get(streamKey(conversationId, rootId));
  }

  /** A copy of a root arrived (a page, an event, an ack): keep it, with the later summary. */
  putRoot(root: Message) {
    const key = streamKey(root.conversationId, root.id);
    const cur = this.roots.get(key);
    const next = withLatestSummary(cur, root);
    if (next !== cur) this.roots.set(key, next);
    if (this.list.some((e) => e.root.id === root.id)) this.list = listWithRoot(this.list, next);
  }

  /** Whether I follow each thread I opened (the panel's toggle). */
  readonly following = new SvelteMap<string, boolean>();

  /** A thread as I see it (its root and whether I follow it), when its panel opens. */
  async view(conversationId: string, rootId: string) {
    const { thread } = await api.db.threadView(conversationId, rootId);
    this.putRoot(thread.root);
    this.following.set(streamKey(conversationId, rootId), thread.following);
  }

  async setFollowing(conversationId: string, rootId: string, on: boolean) {
    const key = streamKey(conversationId, rootId);
    const before = this.following.get(key);
    this.following.set(key, on);
    try {
      await api.db.follow(conversationId, rootId, on);
      // An unfollowed thread leaves the unread list; a followed one may join it.
      if (!on) this.read(key);
    } catch (e) {
      if (before === undefined) this.following.delete(key);
      else this.following.set(key, before);
      throw e;
    }
  }

  async load() {
    const seq = ++this.#seq;
    try {
      const { threads } = await api.db.threads(true);
      if (seq !== this.#seq) return;
      for (const t of threads) this.putRoot(t.root);
      this.list = sortThreads(threads.map((t) => ({ conversationId: t.conversationId, root: this.root(t.conversationId, t.root.id) ?? t.root, unreadCount: t.unreadCount })));
      this.loaded = true;
      this.error = null;
    } catch (e) {
      if (seq === this.#seq) this.error = errorMessage(e);
    }
  }

  /** A live thread reply: its root's summary and the list move on. */
  reply(reply: Message, o: { me: string | null; isNew: boolean; root: Message | undefined }) {
    if (!reply.threadRootId) return;
    const key = streamKey(reply.conversationId, reply.threadRootId);
    const watching = this.openKey === key && this.viewingLatest && (typeof document === 'undefined' || document.visibilityState === 'visible');
    const held = this.roots.get(key);
    if (held && o.isNew) this.roots.set(key, { ...held, thread: summaryWithReply(held.thread, reply) });
    const { list, known } = listWithReply(this.list, reply, { me: o.me, isNew: o.isNew, watching });
    if (known) this.list = list;
    else if (o.isNew && !watching && mayFollow(reply, o.root ?? held, o.me)) this.#relistSoon();
  }

  /** I read a thread to its end: it has no unread replies left. */
  read(key: string) {
    this.list = listWithRead(this.list, key);
  }

  #relistSoon() {
    if (this.#relist) return;
    this.#relist = setTimeout(() => {
      this.#relist = null;
      void this.load();
    }, RELIST_MS);
  }

  clear() {
    if (this.#relist) clearTimeout(this.#relist);
    this.#relist = null;
    this.openKey = null;
    this.viewingLatest = false;
    this.list = [];
    this.loaded = false;
    this.error = null;
    this.roots.clear();
    this.following.clear();
  }
}

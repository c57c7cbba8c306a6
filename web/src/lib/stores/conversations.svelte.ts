import { SvelteMap } from 'svelte/reactivity';
import type { Conversation, NotificationLevel, User } from '@chat/shared/models/types';
import { mergeFetchedList, sortByActivity, totalUnread, usersById, withUser } from './conversations.ts';

/** Why a conversation left the list while this client had it. */
export type Departure = 'left' | 'removed';

/**
 * The conversation list and what comes with each conversation: the members' read positions and
 * the caller's notification level (both in the conversation payload). Rules in conversations.ts.
 */
export class ConversationsStore {
  list = $state.raw<Conversation[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);

  /** conversationId -> (userId -> last read messageId). */
  reads = new SvelteMap<string, Record<string, string>>();
  levels = new SvelteMap<string, NotificationLevel>();
  /** Conversations this client saw go, so an open view can say why instead of "not found". */
  departed = new SvelteMap<string, Departure>();
  /** For each departure, the number of the last list request made before it (see replace). */
  // Bookkeeping read only inside replace(), never rendered: no reactivity needed.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #departedBefore = new Map<string, number>();

  sorted = $derived.by(() => sortByActivity(this.list));
  users = $derived(usersById(this.list));
  totalUnread = $derived(totalUnread(this.list));

  get(id: string | null): Conversation | undefined {
    return id ? this.list.find((c) => c.id === id) : undefined;
  }

  level(id: string): NotificationLevel {
    return this.levels.get(id) ?? 'all';
  }

  /**
   * A fetched list (see mergeFetchedList), from list request number `seq`. A request made before
   * a conversation left may still hold it: that answer does not bring it back. One made after
   * does (the person was added again).
   */
  replace(fetched: Conversation[], seq: number) {
    fetched = fetched.filter((c) => !this.departed.has(c.id) || (this.#departedBefore.get(c.id) ?? 0) < seq);
    this.list = mergeFetchedList(this.list, fetched);
    for (const c of fetched) this.#absorb(c);
    for (const c of fetched) this.#arrived(c.id);
    this.loaded = true;
    this.error = null;
  }

  upsert(conversation: Conversation) {
    this.#absorb(conversation);
    this.#arrived(conversation.id);
    const i = this.list.findIndex((c) => c.id === conversation.id);
    if (i < 0) this.list = [...this.list, conversation];
    else {
      const next = this.list.slice();
      next[i] = conversation;
      this.list = next;
    }
  }

  patch(id: string, patch: Partial<Conversation>) {
    this.list = this.list.map((c) => (c.id === id ? { ...c, ...patch } : c));
  }

  /** A member's new name or avatar (user:updated), in every conversation they are in. */
  updateUser(user: User) {
    this.list = withUser(this.list, user);
  }

  remove(id: string, why: Departure, listSeq: number) {
    this.list = this.list.filter((c) => c.id !== id);
    this.reads.delete(id);
    this.departed.set(id, why);
    this.#departedBefore.set(id, listSeq);
  }

  #arrived(id: string) {
    this.departed.delete(id);
    this.#departedBefore.delete(id);
  }

  /**
   * A member's read position, forward only, as the server keeps it: a read event that arrives
   * after a newer one (the db function's calls run concurrently, and moves in other processes can
   * still race) or a list read before the newest move does not take it back.
   */
  setRead(conversationId: string, userId: string, messageId: string) {
    const cur = this.reads.get(conversationId) ?? {};
    const known = cur[userId];
    if (known !== undefined && known >= messageId) return;
    this.reads.set(conversationId, { ...cur, [userId]: messageId });
  }

  clear() {
    this.list = [];
    this.loaded = false;
    this.error = null;
    this.reads.clear();
    this.levels.clear();
    this.departed.clear();
    this.#departedBefore.clear();
  }

  #absorb(c: Conversation) {
    if (c.readPositions) for (const r of c.readPositions) this.setRead(c.id, r.userId, r.messageId);
    if (c.notificationLevel) this.levels.set(c.id, c.notificationLevel);
  }
}

import { SvelteMap } from 'svelte/reactivity';
import { LIMITS } from '@chat/shared/models/limits';
import type { PresenceStatus } from '@chat/shared/events/socket';
import { withTyper, type PresenceEntry } from './presence.ts';

/** Who is online (with when they were last seen) and who is typing where. Rules in presence.ts. */
export class PresenceStore {
  #presence = new SvelteMap<string, PresenceEntry>();
  /** conversationId -> user ids currently typing. */
  #typing = new SvelteMap<string, readonly string[]>();
  // Timers to clear, never rendered: no reactivity needed.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #timers = new Map<string, ReturnType<typeof setTimeout>>();

  get(userId: string): PresenceEntry | undefined {
    return this.#presence.get(userId);
  }

  status(userId: string): PresenceStatus {
    return this.#presence.get(userId)?.status ?? 'offline';
  }

  set(userId: string, status: PresenceStatus, lastSeen: string | null) {
    this.#presence.set(userId, { status, lastSeen: status === 'offline' ? (lastSeen ?? nowIso()) : lastSeen });
  }

  typers(conversationId: string): readonly string[] {
    return this.#typing.get(conversationId) ?? [];
  }

  /** A typing event; the server ends a typing state after its timeout without renewal, and so do we. */
  typing(conversationId: string, userId: string, isTyping: boolean) {
    const k = `${conversationId}|${userId}`;
    const t = this.#timers.get(k);
    if (t) clearTimeout(t);
    this.#timers.delete(k);
    this.#setTyper(conversationId, userId, isTyping);
    if (isTyping) this.#timers.set(k, setTimeout(() => this.typing(conversationId, userId, false), LIMITS.typingTimeoutMs));
  }

  #setTyper(conversationId: string, userId: string, isTyping: boolean) {
    const cur = this.typers(conversationId);
    const next = withTyper(cur, userId, isTyping);
    if (next === cur) return;
    if (next.length) this.#typing.set(conversationId, next);
    else this.#typing.delete(conversationId);
  }

  clear() {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#presence.clear();
    this.#typing.clear();
  }
}

// Outside the exported class, so Svelte's lint sees a timestamp string, not a shared mutable Date.
const nowIso = () => new Date().toISOString();

import { describe, expect, it } from 'vitest';
import type { User } from '../models/types.ts';
import { ProfileCache, type ProfileSource } from './profile-cache.ts';

const user = (id: string, displayName = `User ${id}`): User => ({ id, username: `u${id}`, displayName, avatarUrl: null });

/** A store of users and its profiles revision, counting the user reads the cache makes. */
class FakeStore implements ProfileSource {
  users = new Map<string, User>();
  rev = 'r0';
  private n = 0;
  reads: string[] = [];
  /** When set, the user reads wait for it: to interleave a change with a read in flight. */
  hold: Promise<void> | null = null;
  /** Called when a user read has taken its answer. */
  onRead: (() => void) | null = null;

  constructor(...users: User[]) {
    for (const u of users) this.users.set(u.id, u);
  }
  rename(id: string, displayName: string) {
    this.users.set(id, user(id, displayName));
    this.rev = `r${++this.n}`;
  }
  async profilesRevision() {
    return this.rev;
  }
  async findByIds(ids: string[]) {
    this.reads.push(...ids);
    // What the store holds when the read is answered, before any hold.
    const answer = ids.map((id) => this.users.get(id)).filter((u): u is User => u !== undefined);
    this.onRead?.();
    if (this.hold) await this.hold;
    return answer;
  }
}

describe('ProfileCache', () => {
  it('reads each user once while the revision stays, and keeps the order and uniqueness asked for', async () => {
    const store = new FakeStore(user('a'), user('b'), user('c'));
    const cache = new ProfileCache(store);
    expect((await cache.findByIds(['b', 'a', 'b'])).map((u) => u.id)).toEqual(['b', 'a']);
    expect((await cache.findByIds(['a', 'c'])).map((u) => u.id)).toEqual(['a', 'c']);
    expect(store.reads).toEqual(['b', 'a', 'c']);
    expect(await cache.findByIds([])).toEqual([]);
  });

  it('starts over when the revision moves, so a rename is seen on the next read', async () => {
    const store = new FakeStore(user('a'), user('b'));
    const cache = new ProfileCache(store);
    await cache.findByIds(['a', 'b']);
    store.rename('a', 'Alice');
    expect((await cache.findByIds(['a', 'b'])).map((u) => u.displayName)).toEqual(['Alice', 'User b']);
    expect(store.reads).toEqual(['a', 'b', 'a', 'b']);
  });

  it('does not keep users that were not found: one who registers later is found', async () => {
    const store = new FakeStore(user('a'));
    const cache = new ProfileCache(store);
    expect((await cache.findByIds(['a', 'z'])).map((u) => u.id)).toEqual(['a']);
    store.users.set('z', user('z'));
    expect((await cache.findByIds(['a', 'z'])).map((u) => u.id)).toEqual(['a', 'z']);
    expect(store.reads).toEqual(['a', 'z', 'z']);
  });

  it('a read in flight while the revision moves does not leave its older user behind', async () => {
    const store = new FakeStore(user('a'));
    const cache = new ProfileCache(store);
    let release!: () => void;
    store.hold = new Promise((r) => (release = r));
    const answered = new Promise<void>((r) => (store.onRead = r));
    const slow = cache.findByIds(['a']);
    // The slow read's answer is taken; then the user is renamed and someone reads the new revision.
    await answered;
    store.onRead = null;
    store.rename('a', 'Alice');
    store.hold = null;
    expect((await cache.findByIds(['a']))[0]!.displayName).toBe('Alice');
    release();
    // The slow read answers what it read, and stores it in its own, dropped, generation.
    expect((await slow)[0]!.displayName).toBe('User a');
    expect((await cache.findByIds(['a']))[0]!.displayName).toBe('Alice');
    expect(store.reads).toEqual(['a', 'a']);
  });

  it('reads a user again once its entry is older than the age limit (a change whose revision never moved)', async () => {
    let now = 0;
    const store = new FakeStore(user('a'));
    const cache = new ProfileCache(store, { maxAgeMs: 1000, now: () => now });
    await cache.findByIds(['a']);
    store.users.set('a', user('a', 'Alice'));
    now = 999;
    expect((await cache.findByIds(['a']))[0]!.displayName).toBe('User a');
    now = 1000;
    expect((await cache.findByIds(['a']))[0]!.displayName).toBe('Alice');
  });

  it('keeps at most maxEntries users, dropping the ones read longest ago', async () => {
    const store = new FakeStore(user('a'), user('b'), user('c'));
    const cache = new ProfileCache(store, { maxEntries: 2 });
    await cache.findByIds(['a', 'b']);
    await cache.findByIds(['c']);
    store.reads = [];
    await cache.findByIds(['b', 'c']);
    expect(store.reads).toEqual([]);
    await cache.findByIds(['a']);
    expect(store.reads).toEqual(['a']);
  });
});

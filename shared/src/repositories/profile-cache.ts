import type { User } from '../models/types.ts';

/** What the cache reads through: users by id, and the revision their public fields stand at. */
export interface ProfileSource {
  findByIds(ids: string[]): Promise<User[]>;
  profilesRevision(): Promise<string>;
}

interface Entry {
  user: User;
  readAt: number;
}

/** The users read while the revision stood at `rev` (null: none read yet). */
interface Generation {
  rev: string | null;
  entries: Map<string, Entry>;
}

/**
 * Users as the conversation list shows them, kept between requests: one `_id` read of the
 * profiles revision replaces one `_id` read per member, and a list of 50 conversations has 50 or
 * more members to show. The revision changes after every change to a name or avatar (users.ts), so
 * a user kept here is never older than the last change a request could know of: the cache starts
 * over whenever the revision it reads is not the one its users were read at.
 *
 * A user read while the revision moves is stored in the generation it started in, which is already
 * dropped then; it never reaches the new one. An entry also ages out (`maxAgeMs`), for the change
 * whose writer died before moving the revision. Users never found are not kept, so one who
 * registers is found on the next read.
 */
export class ProfileCache {
  private generation: Generation = { rev: null, entries: new Map() };
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly source: ProfileSource,
    opts: { maxEntries?: number; maxAgeMs?: number; now?: () => number } = {},
  ) {
    this.maxEntries = opts.maxEntries ?? 20_000;
    this.maxAgeMs = opts.maxAgeMs ?? 10 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** The users of these ids that exist, each once, as of the profiles revision read first. */
  async findByIds(ids: string[]): Promise<User[]> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return [];
    const rev = await this.source.profilesRevision();
    if (rev !== this.generation.rev) this.generation = { rev, entries: new Map() };
    const { entries } = this.generation;
    const now = this.now();
    const kept = new Map<string, User>();
    const missing: string[] = [];
    for (const id of wanted) {
      const e = entries.get(id);
      if (e && now - e.readAt < this.maxAgeMs) kept.set(id, e.user);
      else missing.push(id);
    }
    if (missing.length > 0) {
      for (const user of await this.source.findByIds(missing)) {
        kept.set(user.id, user);
        this.keep(entries, user, now);
      }
    }
    return wanted.map((id) => kept.get(id)).filter((u): u is User => u !== undefined);
  }

  /** Oldest first out: a Map iterates in insertion order, and a re-read user is re-inserted. */
  private keep(entries: Map<string, Entry>, user: User, readAt: number): void {
    entries.delete(user.id);
    entries.set(user.id, { user, readAt });
    while (entries.size > this.maxEntries) entries.delete(entries.keys().next().value!);
  }
}

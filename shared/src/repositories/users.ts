import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { isValidObjectId } from 'mongoose';
import { isDuplicateKey } from '../infra/mongo.ts';
import type { Models, RevisionDoc, UserDoc } from '../models/schemas.ts';
import type { User } from '../models/types.ts';
import { normalize, words } from '../search/terms.ts';

/**
 * Where an avatar object is served (functions/file, `GET /avatars/:userId/:name`): a same-origin
 * path that changes with every new avatar, so it may be cached for good.
 */
export const avatarPath = (avatarKey: string) => `/api/file/avatars/${avatarKey}.webp`;

export const toUser = (d: Pick<UserDoc, '_id' | 'username' | 'displayName'> & { avatarKey?: string | null | undefined }): User => ({
  id: d._id.toString(),
  username: d.username,
  displayName: d.displayName,
  avatarUrl: d.avatarKey ? avatarPath(d.avatarKey) : null,
});

/** The public fields a User is built from: what reads project (never the password hash). */
const PUBLIC = { username: 1, displayName: 1, avatarKey: 1 } as const;

/** Longest indexed user prefix: a whole username fits (LIMITS.usernameMax). */
const USER_PREFIX_MAX = 32;
const prefixes = (s: string) => Array.from({ length: Math.min(Array.from(s).length, USER_PREFIX_MAX) }, (_, i) => Array.from(s).slice(0, i + 1).join(''));
const userQuery = (q: string) => Array.from(normalize(q.trim())).slice(0, USER_PREFIX_MAX).join('');

/**
 * What `GET /users?q=` looks up by equality: every prefix of the username and of the display name
 * (normalised as search does, so "ZOË" finds "Zoë"), and of each display-name word ("smi" finds
 * "Ann Smith").
 */
export function userSearchKeys(username: string, displayName: string): string[] {
  const name = normalize(displayName.trim());
  return [...new Set([...prefixes(normalize(username)), ...prefixes(name), ...words(name).flatMap(prefixes)])];
}

/** Whether a user matches a normalised query longer than the indexed prefixes. */
const userMatches = (u: { username: string; displayName: string }, q: string) => {
  const name = normalize(u.displayName.trim());
  return normalize(u.username).startsWith(q) || name.startsWith(q) || words(name).some((w) => w.startsWith(q));
};

/** The revision doc that moves with every change to a user's public fields. */
const PROFILES = 'profiles';

/** Data access for users; never returns password hashes except through findCredentials. */
export class UsersRepository {
  private readonly model: Model<UserDoc>;
  private readonly revisions: Model<RevisionDoc>;

  constructor(models: Pick<Models, 'User' | 'Revision'>) {
    this.model = models.User;
    this.revisions = models.Revision;
  }

  /** Returns null when the username is taken. */
  async create(input: { username: string; displayName: string; passwordHash: string }): Promise<User | null> {
    try {
      const doc = await this.model.create({ ...input, searchKeys: userSearchKeys(input.username, input.displayName), createdAt: new Date() });
      return toUser(doc);
    } catch (e) {
      if (isDuplicateKey(e)) return null;
      throw e;
    }
  }

  async findCredentials(username: string): Promise<{ user: User; passwordHash: string } | null> {
    const doc = await this.model.findOne({ username: { $eq: username } }).lean<UserDoc>();
    return doc ? { user: toUser(doc), passwordHash: doc.passwordHash } : null;
  }

  async findById(id: string): Promise<User | null> {
    if (!isValidObjectId(id)) return null;
    const doc = await this.model.findById(id, PUBLIC).lean<UserDoc>();
    return doc ? toUser(doc) : null;
  }

  /** Users by id, each read by `_id` in parallel: FerretDB would answer `$in` by reading every user. */
  async findByIds(ids: string[]): Promise<User[]> {
    const valid = [...new Set(ids)].filter((id) => isValidObjectId(id));
    const found = await Promise.all(valid.map((id) => this.findById(id)));
    return found.filter((u): u is User => u !== null);
  }

  /**
   * Users whose username, display name or a display-name word starts with the prefix (case- and
   * accent-insensitive), by username: one equality lookup on the users' prefix keys, so its cost
   * is the number of matches. An empty prefix finds no one (it would read every user).
   */
  async searchByPrefix(prefix: string, limit: number, excludeId?: string): Promise<User[]> {
    const q = userQuery(prefix);
    if (!q) return [];
    const docs = await this.model.find({ searchKeys: { $eq: q } }, PUBLIC).lean<UserDoc[]>();
    const full = normalize(prefix.trim());
    return docs
      .filter((d) => d._id.toString() !== excludeId && (full === q || userMatches(d, full)))
      .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
      .slice(0, limit)
      .map(toUser);
  }

  /** Renames a user (and re-keys the prefix search); null when the user is gone. */
  async setDisplayName(id: string, displayName: string): Promise<User | null> {
    if (!isValidObjectId(id)) return null;
    const doc = await this.model.findById(id, { username: 1 }).lean<UserDoc>();
    if (!doc) return null;
    const updated = await this.model
      // No projection: FerretDB 1.24 does not support one in findAndModify (toUser picks the public fields).
      .findByIdAndUpdate(id, { $set: { displayName, searchKeys: userSearchKeys(doc.username, displayName) } }, { new: true })
      .lean<UserDoc>();
    if (!updated) return null;
    await this.profilesChanged();
    return toUser(updated);
  }

  /**
   * Points the user at a new avatar object; returns the user and the key it replaced (for the
   * caller to delete), or null when the user is gone.
   */
  async setAvatarKey(id: string, avatarKey: string): Promise<{ user: User; previousKey: string | null } | null> {
    if (!isValidObjectId(id)) return null;
    const before = await this.model.findByIdAndUpdate(id, { $set: { avatarKey } }, { new: false }).lean<UserDoc>();
    if (!before) return null;
    await this.profilesChanged();
    return { user: toUser({ ...before, avatarKey }), previousKey: before.avatarKey ?? null };
  }

  /**
   * Where public fields stand: a token that changes after every change to any user's name or
   * avatar ('' before the first), so a cache of users read at one revision is good until it changes.
   */
  async profilesRevision(): Promise<string> {
    const doc = await this.revisions.findById(PROFILES).lean<RevisionDoc>();
    return doc?.rev ?? '';
  }

  /**
   * Called after the change is stored, never before: a reader that sees the new revision then
   * reads the new fields. A token never seen before, so that of two racing writers on FerretDB
   * (whose updates are whole-document read-modify-writes) the one that stays is still new to every
   * cache, and later than both changes. A process that dies in between leaves caches behind until
   * the next change or their entries' age limit (profile-cache.ts).
   */
  private async profilesChanged(): Promise<void> {
    await this.revisions.updateOne({ _id: PROFILES }, { $set: { rev: randomUUID() } }, { upsert: true });
  }

  async findPasswordHash(id: string): Promise<string | null> {
    if (!isValidObjectId(id)) return null;
    const doc = await this.model.findById(id, { passwordHash: 1 }).lean<UserDoc>();
    return doc?.passwordHash ?? null;
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { passwordHash } });
  }

  /** Sets the prefix keys of users stored before they existed (the search-keys migration). */
  async setSearchKeys(id: string, username: string, displayName: string): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { searchKeys: userSearchKeys(username, displayName) } });
  }
}

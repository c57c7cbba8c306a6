import type { Model } from 'mongoose';
import { isValidObjectId } from 'mongoose';
import { isDuplicateKey } from '../infra/mongo.ts';
import type { UserDoc } from '../models/schemas.ts';
import type { User } from '../models/types.ts';

export const toUser = (d: Pick<UserDoc, '_id' | 'username' | 'displayName'>): User => ({
  id: d._id.toString(),
  username: d.username,
  displayName: d.displayName,
});

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** Data access for users; never returns password hashes except through findCredentials. */
export class UsersRepository {
  constructor(private readonly model: Model<UserDoc>) {}

  /** Returns null when the username is taken. */
  async create(input: { username: string; displayName: string; passwordHash: string }): Promise<User | null> {
    try {
      const doc = await this.model.create({ ...input, createdAt: new Date() });
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
    const doc = await this.model.findById(id, { username: 1, displayName: 1 }).lean<UserDoc>();
    return doc ? toUser(doc) : null;
  }

  /**
   * One lookup by _id per distinct id, in parallel: FerretDB answers `_id: {$in}` by reading the
   * whole collection, while each lookup by _id is an index read.
   */
  async findByIds(ids: string[]): Promise<User[]> {
    const valid = [...new Set(ids)].filter((id) => isValidObjectId(id));
    const found = await Promise.all(valid.map((id) => this.findById(id)));
    return found.filter((u): u is User => u !== null);
  }

  /** Users whose username or display name starts with the prefix (case-insensitive). */
  async searchByPrefix(prefix: string, limit: number, excludeId?: string): Promise<User[]> {
    const re = new RegExp(`^${escapeRegex(prefix.trim().toLowerCase())}`, 'i');
    const filter = prefix.trim()
      ? { $or: [{ username: { $regex: re } }, { displayName: { $regex: re } }] }
      : {};
    const docs = await this.model
      .find(excludeId && isValidObjectId(excludeId) ? { ...filter, _id: { $ne: excludeId } } : filter, { username: 1, displayName: 1 })
      .sort({ username: 1 })
      .limit(limit)
      .lean<UserDoc[]>();
    return docs.map(toUser);
  }
}

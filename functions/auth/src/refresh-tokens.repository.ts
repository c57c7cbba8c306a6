import type { Model } from 'mongoose';
import type { RefreshTokenDoc } from '@chat/shared/models/schemas';

export interface StoredRefreshToken {
  userId: string;
  familyId: string;
  expiresAt: Date;
  spentAt: Date | null;
  revokedAt: Date | null;
}

/** Refresh tokens are stored only as SHA-256 hashes; the plaintext exists only in the client. */
export class RefreshTokensRepository {
  constructor(private readonly model: Model<RefreshTokenDoc>) {}

  async insert(t: { tokenHash: string; userId: string; familyId: string; expiresAt: Date }): Promise<void> {
    await this.model.create({ ...t, createdAt: new Date() });
  }

  async find(tokenHash: string): Promise<StoredRefreshToken | null> {
    return this.model.findOne({ tokenHash: { $eq: tokenHash } }, { userId: 1, familyId: 1, expiresAt: 1, spentAt: 1, revokedAt: 1 }).lean<StoredRefreshToken>();
  }

  /** Atomically spends a live token; false when it was already spent or revoked (a replay). */
  async spend(tokenHash: string): Promise<boolean> {
    const res = await this.model.updateOne(
      { tokenHash: { $eq: tokenHash }, spentAt: null, revokedAt: null },
      { $set: { spentAt: new Date() } },
    );
    return res.modifiedCount === 1;
  }

  /**
   * Revokes every live token of the user outside one family (the session that asked), or all of
   * them when keepFamilyId is null. The userId equality bounds what FerretDB reads.
   */
  async revokeOtherFamilies(userId: string, keepFamilyId: string | null): Promise<void> {
    const filter = keepFamilyId ? { userId: { $eq: userId }, familyId: { $ne: keepFamilyId }, revokedAt: null } : { userId: { $eq: userId }, revokedAt: null };
    await this.model.updateMany(filter, { $set: { revokedAt: new Date() } });
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.model.updateMany({ familyId: { $eq: familyId }, revokedAt: null }, { $set: { revokedAt: new Date() } });
  }
}

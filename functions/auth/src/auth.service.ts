import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errors } from '@chat/shared/errors';
import { hit, peek } from '@chat/shared/infra/redis';
import type { AuthSession, AuthTokens, User } from '@chat/shared/models/types';
import type { UsersRepository } from '@chat/shared/repositories/users';
import type { AuthConfig } from './config.ts';
import type { SigningKeys } from './keys.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.ts';
import type { RefreshTokensRepository } from './refresh-tokens.repository.ts';

const INVALID_LOGIN = 'Invalid username or password.';
const INVALID_REFRESH = 'Invalid or expired refresh token.';
const PROFILE_TTL_MS = 5000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** Failed logins of one (lower-cased) username: wrong current passwords count there too. */
const userFailuresKey = (username: string) => `auth:fail:user:${sha256(username)}`;

/** Registration, login and token rotation; knows nothing of HTTP or cookies. */
export class AuthService {
  constructor(
    private readonly deps: {
      config: AuthConfig;
      users: UsersRepository;
      tokens: RefreshTokensRepository;
      keys: SigningKeys;
      redis: Redis;
      /** Tells the gateways a user's public profile changed (user.updated). */
      announce: (user: User) => void;
    },
  ) {}

  async register(input: { username: string; password: string; displayName?: string | undefined }, clientIp: string): Promise<AuthSession> {
    const { config, redis, users } = this.deps;
    const limit = await hit(redis, `auth:register:ip:${clientIp}`, config.REGISTER_MAX_PER_IP, config.REGISTER_WINDOW_SECONDS * 1000);
    if (!limit.allowed) throw errors.rateLimited(limit.retryAfter);
    const passwordHash = await hashPassword(input.password);
    const user = await users.create({ username: input.username, displayName: input.displayName ?? input.username, passwordHash });
    if (!user) throw errors.conflict('That username is taken.');
    return { user, ...(await this.issue(user.id, randomUUID())) };
  }

  async login(input: { username: string; password: string }, clientIp: string): Promise<AuthSession> {
    const { config, redis, users } = this.deps;
    const username = input.username.trim().toLowerCase();
    const userKey = userFailuresKey(username);
    const ipKey = `auth:fail:ip:${clientIp}`;
    const [byUser, byIp] = await Promise.all([
      peek(redis, userKey, config.LOGIN_MAX_FAILURES_PER_USER),
      peek(redis, ipKey, config.LOGIN_MAX_FAILURES_PER_IP),
    ]);
    if (!byUser.allowed || !byIp.allowed) throw errors.rateLimited(Math.max(byUser.allowed ? 0 : byUser.retryAfter, byIp.allowed ? 0 : byIp.retryAfter));

    const found = await users.findCredentials(username);
    // Hash even for unknown users, so timing does not reveal who has an account.
    const ok = await verifyPassword(input.password, found?.passwordHash ?? DUMMY_HASH);
    if (!found || !ok) {
      const windowMs = config.LOGIN_FAILURE_WINDOW_SECONDS * 1000;
      await Promise.all([
        hit(redis, userKey, config.LOGIN_MAX_FAILURES_PER_USER, windowMs),
        hit(redis, ipKey, config.LOGIN_MAX_FAILURES_PER_IP, windowMs),
      ]);
      throw errors.unauthorized(INVALID_LOGIN);
    }
    await redis.del(userKey);
    return { user: found.user, ...(await this.issue(found.user.id, randomUUID())) };
  }

  /** Rotates a refresh token. Presenting a spent one revokes its whole family (theft signal). */
  async refresh(refreshToken: string | undefined): Promise<AuthTokens> {
    if (!refreshToken) throw errors.unauthorized(INVALID_REFRESH);
    const { tokens, users } = this.deps;
    const hash = sha256(refreshToken);
    const stored = await tokens.find(hash);
    if (!stored || stored.revokedAt || stored.expiresAt.getTime() <= Date.now()) throw errors.unauthorized(INVALID_REFRESH);
    if (stored.spentAt || !(await tokens.spend(hash))) {
      await tokens.revokeFamily(stored.familyId);
      throw errors.unauthorized(INVALID_REFRESH);
    }
    if (!(await users.findById(stored.userId))) throw errors.unauthorized(INVALID_REFRESH);
    return this.issue(stored.userId, stored.familyId);
  }

  async logout(refreshToken: string | undefined): Promise<void> {
    if (!refreshToken) return;
    const stored = await this.deps.tokens.find(sha256(refreshToken));
    if (stored) await this.deps.tokens.revokeFamily(stored.familyId);
  }

  /** Changes the user's public profile; others learn of it live (user.updated). */
  async updateProfile(userId: string, input: { displayName?: string | undefined }): Promise<User> {
    if (input.displayName === undefined) return this.me(userId);
    const user = await this.deps.users.setDisplayName(userId, input.displayName);
    if (!user) throw errors.unauthorized('The account no longer exists.');
    this.profiles.delete(userId);
    this.deps.announce(user);
    return user;
  }

  /**
   * Changes the password after checking the current one (wrong guesses count as failed logins
   * of the user) and signs out every other session: each refresh-token family but the caller's
   * (the refresh token it presented) is revoked. Access tokens already issued run out on their
   * own (at most ACCESS_TOKEN_TTL_SECONDS).
   */
  async changePassword(userId: string, input: { currentPassword: string; newPassword: string }, currentRefreshToken: string | undefined): Promise<void> {
    const { config, redis, users, tokens } = this.deps;
    const userKey = userFailuresKey((await this.me(userId)).username);
    const limit = await peek(redis, userKey, config.LOGIN_MAX_FAILURES_PER_USER);
    if (!limit.allowed) throw errors.rateLimited(limit.retryAfter);
    const hash = await users.findPasswordHash(userId);
    if (!hash || !(await verifyPassword(input.currentPassword, hash))) {
      await hit(redis, userKey, config.LOGIN_MAX_FAILURES_PER_USER, config.LOGIN_FAILURE_WINDOW_SECONDS * 1000);
      throw errors.unauthorized('The current password is wrong.');
    }
    await users.setPasswordHash(userId, await hashPassword(input.newPassword));
    const current = currentRefreshToken ? await tokens.find(sha256(currentRefreshToken)) : null;
    const keep = current && current.userId === userId && !current.revokedAt && !current.spentAt ? current.familyId : null;
    await tokens.revokeOtherFamilies(userId, keep);
  }

  /**
   * The signed-in user. Profiles are read far more often than they change (every app start and
   * token renewal asks), so they are kept for a few seconds per process.
   */
  async me(userId: string): Promise<User> {
    const hit = this.cachedProfile(userId);
    if (hit) return hit;
    const user = await this.deps.users.findById(userId);
    if (!user) throw errors.unauthorized('The account no longer exists.');
    if (this.profiles.size >= 10_000) this.profiles.delete(this.profiles.keys().next().value!);
    this.profiles.set(userId, { user, until: Date.now() + PROFILE_TTL_MS });
    return user;
  }

  /** The profile me() read for this user in the last few seconds, at once; undefined otherwise. */
  cachedProfile(userId: string): User | undefined {
    const hit = this.profiles.get(userId);
    return hit && hit.until > Date.now() ? hit.user : undefined;
  }

  private readonly profiles = new Map<string, { user: User; until: number }>();

  private async issue(userId: string, familyId: string): Promise<AuthTokens> {
    const { config, keys, tokens } = this.deps;
    const refreshToken = randomBytes(32).toString('base64url');
    await tokens.insert({
      tokenHash: sha256(refreshToken),
      userId,
      familyId,
      expiresAt: new Date(Date.now() + config.REFRESH_TOKEN_TTL_DAYS * 86_400_000),
    });
    const accessToken = await keys.sign({
      sub: userId,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    });
    return { accessToken, refreshToken, expiresIn: config.ACCESS_TOKEN_TTL_SECONDS };
  }
}

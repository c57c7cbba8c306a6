import { randomUUID } from 'node:crypto';
import { errors } from '@chat/shared/errors';
import type { Logger } from '@chat/shared/log';
import type { User } from '@chat/shared/models/types';
import type { UsersRepository } from '@chat/shared/repositories/users';
import type { FileConfig } from './config.ts';
import type { AvatarUploadRequest } from './content.ts';
import { makePreview, PREVIEW_CONTENT_TYPE } from './preview.ts';
import type { ObjectStorage } from './storage.repository.ts';

type Config = Pick<FileConfig, 'AVATAR_PX' | 'AVATAR_MAX_BYTES' | 'UPLOAD_URL_TTL_SECONDS' | 'PREVIEW_MAX_INPUT_PIXELS'>;

/** Uploaded originals wait here for completion; ones never completed expire (bucket lifecycle). */
export const AVATAR_UPLOADS_PREFIX = 'avatar-uploads/';
/** The user id in the key is the authorisation: a user can only complete their own upload. */
const uploadKey = (userId: string, uploadId: string) => `${AVATAR_UPLOADS_PREFIX}${userId}/${uploadId}`;
/** The stored square WebP: `avatars/<avatarKey>.webp`, avatarKey = `<userId>/<uuid>`. */
const avatarObject = (avatarKey: string) => `avatars/${avatarKey}.webp`;

const OBJECT_ID = /^[0-9a-f]{24}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface AvatarTicket {
  uploadId: string;
  uploadUrl: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: string;
}

/**
 * Avatars: the client PUTs an image straight to storage, then completes; the original is turned
 * into a small square WebP (the preview maker, so EXIF is dropped and only the first frame kept),
 * stored under a fresh unguessable key, and the user points at it. The original is deleted.
 */
export class AvatarsService {
  constructor(
    private readonly deps: {
      config: Config;
      users: UsersRepository;
      storage: ObjectStorage;
      log: Logger;
      /** Tells the gateways the user's avatar changed (user.updated). */
      announce: (user: User) => void;
    },
  ) {}

  async createUpload(userId: string, req: AvatarUploadRequest): Promise<AvatarTicket> {
    const { config, storage } = this.deps;
    if (req.size > config.AVATAR_MAX_BYTES) throw errors.tooLarge(`An avatar image may be at most ${config.AVATAR_MAX_BYTES} bytes.`);
    const uploadId = randomUUID();
    return {
      uploadId,
      uploadUrl: await storage.presignPut(uploadKey(userId, uploadId), config.UPLOAD_URL_TTL_SECONDS),
      method: 'PUT',
      headers: { 'Content-Type': req.contentType },
      expiresAt: new Date(Date.now() + config.UPLOAD_URL_TTL_SECONDS * 1000).toISOString(),
    };
  }

  async complete(userId: string, uploadId: string): Promise<User> {
    const { config, storage, users, log, announce } = this.deps;
    if (!UUID.test(uploadId)) throw errors.notFound('Upload');
    const key = uploadKey(userId, uploadId);
    const size = await storage.size(key);
    if (size === null) throw errors.notFound('Upload');
    if (size > config.AVATAR_MAX_BYTES) {
      await storage.remove([key]);
      throw errors.tooLarge(`An avatar image may be at most ${config.AVATAR_MAX_BYTES} bytes.`);
    }
    const square = await makePreview(await storage.read(key), { maxPx: config.AVATAR_PX, maxInputPixels: config.PREVIEW_MAX_INPUT_PIXELS, square: true });
    if (!square) {
      await storage.remove([key]);
      throw errors.invalid('The upload is not a readable image.');
    }
    const avatarKey = `${userId}/${randomUUID()}`;
    await storage.write(avatarObject(avatarKey), square.data, PREVIEW_CONTENT_TYPE);
    const set = await users.setAvatarKey(userId, avatarKey);
    if (!set) {
      await storage.remove([key, avatarObject(avatarKey)]);
      throw errors.unauthorized('The account no longer exists.');
    }
    // The old picture's URL leaves every client with this event; its object is not needed.
    await storage.remove([key, ...(set.previousKey ? [avatarObject(set.previousKey)] : [])]).catch((e) => log.warn('avatar cleanup failed', { err: e }));
    announce(set.user);
    return set.user;
  }

  /** The stored WebP of `GET /avatars/:userId/:file`, or null for a key that is not one. */
  async read(userId: string, file: string): Promise<Buffer | null> {
    const uuid = file.endsWith('.webp') ? file.slice(0, -'.webp'.length) : '';
    if (!OBJECT_ID.test(userId) || !UUID.test(uuid)) return null;
    const key = avatarObject(`${userId}/${uuid}`);
    if ((await this.deps.storage.size(key)) === null) return null;
    return this.deps.storage.read(key);
  }
}

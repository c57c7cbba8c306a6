import { z } from 'zod';
import { NOTIFICATION_LEVELS } from '@chat/shared/models/notification-level';
import type { NotificationLevel } from '@chat/shared/models/types';

const base64url = (bytes: number, what: string) =>
  z
    .string()
    .max(256)
    .transform((s) => s.replace(/=+$/, ''))
    .refine((s) => /^[A-Za-z0-9_-]+$/.test(s) && Buffer.from(s, 'base64url').length === bytes, `must be ${what} in URL-safe base64`);

export const endpoint = z.string().min(1).max(2048);

export const subscribeRequest = z.strictObject({
  endpoint,
  keys: z.strictObject({
    p256dh: base64url(65, 'an uncompressed P-256 public key').refine((s) => Buffer.from(s, 'base64url')[0] === 4, 'must be an uncompressed P-256 public key'),
    auth: base64url(16, 'a 16-byte secret'),
  }),
});
export type SubscribeRequest = z.output<typeof subscribeRequest>;

export const unsubscribeRequest = z.strictObject({ endpoint });
/**
 * `{level}`, or the older `{muted}` (true: none, false: all); exactly one of them. One object
 * rather than a union, so a bad body gets a message naming the field.
 */
export const preferenceRequest = z
  .strictObject({ level: z.enum(NOTIFICATION_LEVELS).optional(), muted: z.boolean().optional() })
  .refine((b) => (b.level === undefined) !== (b.muted === undefined), 'give either level ("all", "mentions" or "none") or muted');

export const levelOf = (b: z.output<typeof preferenceRequest>): NotificationLevel => b.level ?? (b.muted ? 'none' : 'all');

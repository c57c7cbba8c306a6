import { z } from 'zod';

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
export const muteRequest = z.strictObject({ muted: z.boolean() });

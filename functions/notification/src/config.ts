import { z } from 'zod';
import { commonConfig, env, loadConfig } from '@chat/shared/config';
import { parseAllowedOrigins } from './origins.ts';

/** The public push services of Chrome, Firefox, Edge (WNS, per-region hosts) and Safari. */
export const DEFAULT_PUSH_ORIGINS = 'https://fcm.googleapis.com,https://updates.push.services.mozilla.com,https://*.notify.windows.com,https://web.push.apple.com';

export const notificationConfigShape = {
  MONGO_URL: commonConfig.MONGO_URL,
  REDIS_URL: commonConfig.REDIS_URL,
  REDIS_PREFIX: commonConfig.REDIS_PREFIX,
  JWKS_URL: commonConfig.JWKS_URL,
  JWT_ISSUER: commonConfig.JWT_ISSUER,
  JWT_AUDIENCE: commonConfig.JWT_AUDIENCE,
  /**
   * Origins push endpoints may live on (comma-separated; "*." allows one host label, as in
   * https://*.notify.windows.com; the word "default" stands for the public services).
   */
  PUSH_ALLOWED_ORIGINS: z
    .string()
    .default(DEFAULT_PUSH_ORIGINS)
    .transform((v, ctx) => {
      try {
        return parseAllowedOrigins(v.replace(/\bdefault\b/g, DEFAULT_PUSH_ORIGINS));
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
  /** Contact the push services may use (VAPID `sub`): a mailto: or https: URL. */
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, 'must be a mailto: or https: URL')
    .default('mailto:admin@chat.example'),
  /** How long a push service keeps an undelivered notification. */
  PUSH_TTL_SECONDS: env.int(24 * 3600, 0, 28 * 86_400),
  PUSH_URGENCY: z.enum(['very-low', 'low', 'normal', 'high']).default('high'),
  PUSH_TIMEOUT_MS: env.int(5000, 100, 60_000),
  PUSH_MAX_ATTEMPTS: env.int(3, 1, 10),
  /** Cap on one wait between attempts, whatever Retry-After asks for. */
  PUSH_MAX_RETRY_DELAY_MS: env.int(10_000, 0, 300_000),
  PUSH_CONCURRENCY: env.int(16, 1, 1000),
  /** How long "this device got this message" is remembered, so redeliveries do not re-push. */
  PUSH_DEDUPE_TTL_SECONDS: env.int(2 * 86_400, 60),
  EVENT_BATCH_MAX: env.int(1000, 1, 10_000),
  LOG_LEVEL: commonConfig.LOG_LEVEL,
};

export type NotificationConfig = ReturnType<typeof loadNotificationConfig>;
export const loadNotificationConfig = (e: Record<string, string | undefined> = process.env) => loadConfig(notificationConfigShape, e);

import { createVerifier } from '@chat/shared/auth/verifier';
import { readSecret } from '@chat/shared/config';
import { createApp } from '@chat/shared/http/app';
import { connectMongo } from '@chat/shared/infra/mongo';
import { connectRedis } from '@chat/shared/infra/redis';
import { createLogger } from '@chat/shared/log';
import { PresenceStore } from '@chat/shared/presence';
import { ConversationsRepository } from '@chat/shared/repositories/conversations';
import { NotificationPreferencesRepository, PushSubscriptionsRepository } from '@chat/shared/repositories/notifications';
import { MessagesRepository } from '@chat/shared/repositories/messages';
import { ThreadSubscriptionsRepository } from '@chat/shared/repositories/threads';
import { ProfileCache } from '@chat/shared/repositories/profile-cache';
import { UsersRepository } from '@chat/shared/repositories/users';
import type { FunctionHandler } from '@chat/shared/runtime/serve';
import { loadNotificationConfig } from './src/config.ts';
import { NotificationService } from './src/notification.service.ts';
import { parseVapidKeys, PushSender } from './src/push.sender.ts';
import { notificationRoutes } from './src/routes.ts';

/** The notification function: Web Push subscriptions, mutes, and pushes for new messages. */
export default async function createHandler(): Promise<FunctionHandler> {
  const config = loadNotificationConfig();
  const log = createLogger('notification');
  const vapid = parseVapidKeys(readSecret('vapid-keys'));
  const connectorSecret = readSecret('connector-secret');
  const redis = connectRedis(config.REDIS_URL, config.REDIS_PREFIX);
  const mongo = await connectMongo(config.MONGO_URL);

  const service = new NotificationService({
    config,
    subscriptions: new PushSubscriptionsRepository(mongo.models.PushSubscription),
    preferences: new NotificationPreferencesRepository(mongo.models.NotificationPreference),
    conversations: new ConversationsRepository(mongo.models.Conversation),
    users: new ProfileCache(new UsersRepository(mongo.models)),
    threads: new ThreadSubscriptionsRepository(mongo.models.ThreadSubscription),
    messages: new MessagesRepository(mongo.models.Message),
    presence: new PresenceStore(redis),
    redis,
    sender: new PushSender({
      vapid,
      subject: config.VAPID_SUBJECT,
      ttlSeconds: config.PUSH_TTL_SECONDS,
      urgency: config.PUSH_URGENCY,
      timeoutMs: config.PUSH_TIMEOUT_MS,
      maxAttempts: config.PUSH_MAX_ATTEMPTS,
      maxRetryDelayMs: config.PUSH_MAX_RETRY_DELAY_MS,
    }),
    log,
  });
  const verifier = createVerifier({ jwks: new URL(config.JWKS_URL), issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE });

  const app = createApp({ log, ready: async () => void (await Promise.all([mongo.ping(), redis.ping()])) });
  notificationRoutes(app, { service, verifier, publicKey: vapid.publicKey, connectorSecret, batchMax: config.EVENT_BATCH_MAX });

  return {
    app,
    close: async () => {
      // Pushes already claimed get a short grace period to go out before the connections close.
      await service.drain(5000);
      await Promise.all([mongo.close(), redis.quit()]);
    },
  };
}

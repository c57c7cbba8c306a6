import { createVerifier } from '@chat/shared/auth/verifier';
import { readSecret } from '@chat/shared/config';
import type { RoutingKey, BusEvents } from '@chat/shared/events/bus';
import { createApp } from '@chat/shared/http/app';
import { connectMongo } from '@chat/shared/infra/mongo';
import { adapterClients } from '@chat/shared/infra/redis';
import { createPublisher } from '@chat/shared/infra/rabbit';
import { createLogger } from '@chat/shared/log';
import { ConversationsRepository, ReadPositionsRepository } from '@chat/shared/repositories/conversations';
import { ChunksRepository } from '@chat/shared/repositories/chunks';
import { MessagesRepository } from '@chat/shared/repositories/messages';
import { ThreadSubscriptionsRepository } from '@chat/shared/repositories/threads';
import { NotificationPreferencesRepository } from '@chat/shared/repositories/notifications';
import { ProfileCache } from '@chat/shared/repositories/profile-cache';
import { UsersRepository } from '@chat/shared/repositories/users';
import type { FunctionHandler } from '@chat/shared/runtime/serve';
import { loadDbConfig } from './src/config.ts';
import { ConversationsService } from './src/conversations.service.ts';
import { EventsService } from './src/events.service.ts';
import { eventRoutes } from './src/events.routes.ts';
import { conversationStreams } from './src/history/conversation-stream.ts';
import { ChunkOpenFeed } from './src/history/open-feed.ts';
import { ChunkPlacer } from './src/history/placer.ts';
import { threadStreams } from './src/history/thread-stream.ts';
import { ThreadsService } from './src/threads.service.ts';
import { runMigrations, steps } from './src/migrations/index.ts';
import { ReadsService } from './src/reads.service.ts';
import { conversationRoutes } from './src/routes.ts';
import { SearchService } from './src/search.service.ts';

/** The db function: conversations, history, read positions, search, and storing bus events. */
export default async function createHandler(): Promise<FunctionHandler> {
  const config = loadDbConfig();
  const log = createLogger('db');
  const secret = readSecret('connector-secret');
  const mongo = await connectMongo(config.MONGO_URL);
  // Data written by older versions is upgraded before this instance serves anything: until the
  // handler is returned, the function is not ready and the connector's calls are retried.
  await runMigrations({ models: mongo.models, log }, steps);
  // Not part of readiness: every HTTP route works without the broker. A membership event waits
  // for a reconnecting broker (up to the confirm timeout) rather than being dropped at once.
  const publisher = createPublisher({ url: config.AMQP_URL, log, waitForBroker: true });

  // The DB write is the source of truth; a lost event only delays a live room update (gateways
  // also check membership on their own), so a failed publish is logged, not surfaced.
  const publish = <K extends RoutingKey>(key: K, event: BusEvents[K]) =>
    void publisher.publish(key, event).catch((e) => log.error('event publish failed', { key, conversationId: (event as { conversationId?: string }).conversationId, err: e }));

  const conversations = new ConversationsRepository(mongo.models.Conversation);
  const messages = new MessagesRepository(mongo.models.Message);
  const chunks = new ChunksRepository(mongo.models.Chunk);
  const reads = new ReadPositionsRepository(mongo.models.ReadPosition);
  // The only writer of read positions: every move is announced, whichever path it came by.
  const readsService = new ReadsService({ messages, chunks, reads, announce: (e) => publish('conversation.read', e) });
  // Replicas hear of each other's chunk openings here instead of reading the store before each
  // placement (docs/storage.md, "The feed of chunk openings"). Not part of readiness: without
  // Redis every placement reads the store, as with no feed.
  const redis = adapterClients(config.REDIS_URL, (e) => log.warn('chunk open feed: redis client error', { err: e }));
  const feed = new ChunkOpenFeed(redis.pub, redis.sub, `${config.REDIS_PREFIX}chunk-opens`, log);
  feed.start();
  // Chunks open half a second ahead of now, so what is in flight stays in the chunk before
  // whichever replica places it (docs/storage.md, "A race between replicas").
  const placing = { feed, floorMs: 500 };
  const placer = new ChunkPlacer(conversationStreams(conversations, chunks), placing);
  const threadPlacer = new ChunkPlacer(threadStreams(messages, chunks), placing);
  const subscriptions = new ThreadSubscriptionsRepository(mongo.models.ThreadSubscription);
  const threads = new ThreadsService({ conversations, messages, chunks, subscriptions, announce: (e) => publish('conversation.read', e) });
  const users = new UsersRepository(mongo.models);
  const service = new ConversationsService({
    users,
    profiles: new ProfileCache(users),
    conversations,
    messages,
    chunks,
    reads,
    readsService,
    preferences: new NotificationPreferencesRepository(mongo.models.NotificationPreference),
    events: {
      created: (e) => publish('conversation.created', e),
      membersChanged: (e) => publish('conversation.members.changed', e),
      updated: (e) => publish('conversation.updated', e),
      // Awaited (confirmed): until then the message stays in the conversation's outbox.
      systemMessage: (message, memberIds) => publisher.publish('message.created', { message, memberIds }, { messageId: message.id }),
    },
    log,
  });
  const search = new SearchService({ conversations, messages, chunks, limit: config.SEARCH_RESULTS_MAX });
  const verifier = createVerifier({ jwks: new URL(config.JWKS_URL), issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE });

  const app = createApp({ log, ready: () => mongo.ping() });
  eventRoutes(app, { service: new EventsService({
      messages,
      conversations,
      placer,
      threadPlacer,
      reads: readsService,
      threads,
      subscriptions,
      announceThread: (message) => publish('conversation.thread.updated', { message }),
      // Awaited (confirmed), unlike the announcements above: it is the only way the sender's ledger
      // and the clients learn which id was kept.
      announceSuperseded: (e) => publisher.publish('conversation.message.superseded', e),
      log,
    }), secret, log, batchMax: config.EVENT_BATCH_MAX });
  conversationRoutes(app, { service, search, threads, verifier });

  return {
    app,
    close: async () => {
      feed.stop();
      await Promise.all([publisher.close(), redis.pub.quit().catch(() => undefined), redis.sub.quit().catch(() => undefined)]);
      await mongo.close();
    },
  };
}

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import { createVerifier } from '@chat/shared/auth/verifier';
import { ConfigError } from '@chat/shared/config';
import { connectMongo } from '@chat/shared/infra/mongo';
import { AmqpManager } from '@chat/shared/infra/amqp/manager';
import { createPublisher } from '@chat/shared/infra/rabbit';
import { adapterClients, connectRedis } from '@chat/shared/infra/redis';
import { createLogger } from '@chat/shared/log';
import { PresenceStore } from '@chat/shared/presence';
import { InFlight } from '@chat/shared/concurrency';
import { answerHealth, closeServer, onShutdown } from '@chat/shared/runtime/lifecycle';
import { ConversationsRepository } from '@chat/shared/repositories/conversations';
import { FilesRepository } from '@chat/shared/repositories/files';
import { MessagesRepository } from '@chat/shared/repositories/messages';
import { ProfileCache } from '@chat/shared/repositories/profile-cache';
import { UsersRepository } from '@chat/shared/repositories/users';
import { loadGatewayConfig } from './config.ts';
import { createHandlers, TypingTracker, type ChatServer, type ChatSocket } from './handlers.ts';
import { releaseHandshakeRequests, RoomNames, shareAnyListener } from './lean.ts';
import { MembershipCache } from './membership.ts';
import { MentionResolver } from './mentions.ts';
import { MessagingService } from './messaging.service.ts';
import { PresenceService } from './presence.ts';
import { followMembership, rooms } from './rooms.ts';
import { SendLedger } from './send-ledger.ts';
import { handshake, TokenExpiry } from './socket-auth.ts';

/** An engine.io session id that names this instance (`<GATEWAY_ID>.<random>`), for the ingress to route by. */
const sessionId = (gatewayId: string) => `${gatewayId}.${randomBytes(15).toString('base64url')}`;

/** The socket gateway: one long-lived Socket.IO server; instances fan out through Redis. */
async function main() {
  const config = loadGatewayConfig();
  const log = createLogger(`gateway:${config.GATEWAY_ID}`);

  const mongo = await connectMongo(config.MONGO_URL);
  const redis = connectRedis(config.REDIS_URL, config.REDIS_PREFIX);
  // The adapter's pub/sub clients carry no key prefix; its channels are prefixed instead.
  // Errors logged, not thrown: a broadcast racing the clients' quit on shutdown fails with EPIPE.
  const { pub: pubClient, sub: subClient } = adapterClients(config.REDIS_URL, (e) => log.warn('redis adapter client error', { err: e }));
  // One AMQP connection for the publisher and the membership consumer; it reconnects by itself
  // and readiness follows it (both channels are needed: without them sends or rooms go wrong).
  const amqp = new AmqpManager({ url: config.AMQP_URL, log, connectionName: `chat-gateway-${config.GATEWAY_ID}` });
  const publisher = createPublisher({ amqp, log, confirmTimeoutMs: config.PUBLISH_CONFIRM_TIMEOUT_MS, required: true });
  // No cache of verified tokens: a socket presents its token once, so the cache would mostly hold
  // the token of every open connection (half a kilobyte each) to spare the odd reconnect a check.
  const verifier = createVerifier({ jwks: new URL(config.JWKS_URL), issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, cacheSize: 0 });

  const conversations = new ConversationsRepository(mongo.models.Conversation);
  const users = new UsersRepository(mongo.models);
  const membership = new MembershipCache(conversations, config.MEMBERSHIP_CACHE_TTL_MS);
  const files = new FilesRepository(mongo.models.File);
  const messages = new MessagesRepository(mongo.models.Message);
  const ledger = new SendLedger(redis, { rateLimit: config.SEND_RATE_LIMIT, rateWindowMs: config.SEND_RATE_WINDOW_MS, ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS });
  await ledger.initEpoch(() => messages.any());
  const presenceStore = new PresenceStore(redis);
  const service = new MessagingService({
    ledger,
    membership,
    publisher,
    messages,
    // Only completed uploads of the same conversation may be attached.
    resolveAttachments: (ids, conversationId) => files.requireCompletedInConversation(ids, conversationId),
    ledgerRecoveryMs: config.LEDGER_RECOVERY_SECONDS * 1000,
    mentions: new MentionResolver({ users, presence: presenceStore }),
  });

  const ready = async () => {
    amqp.ready();
    await Promise.all([mongo.ping(), redis.ping()]);
  };
  const httpServer = http.createServer((req, res) => {
    if (answerHealth(req, res, ready)) return;
    // socket.io answers its own path; everything else is not ours.
    if (!req.url?.startsWith('/socket.io/')) res.writeHead(404).end();
  });

  const io: ChatServer = new Server(httpServer, {
    adapter: createShardedAdapter(pubClient, subClient, { channelPrefix: `${config.REDIS_PREFIX}socket.io`, subscriptionMode: config.ADAPTER_SUBSCRIPTION_MODE }),
    serveClient: false,
    pingInterval: 20_000,
    pingTimeout: 20_000,
    maxHttpBufferSize: 64 * 1024,
    connectionStateRecovery: undefined,
  });
  // Sticky routing for long-polling: the ingress sends a client's later requests to the instance
  // named in the chat_gw cookie, or, for a client that keeps no cookies, in its session id.
  io.engine.on('initial_headers', (headers: Record<string, string>) => {
    headers['set-cookie'] = `chat_gw=${encodeURIComponent(config.GATEWAY_ID)}; Path=/socket.io/; HttpOnly; SameSite=Lax`;
  });
  io.engine.generateId = () => sessionId(config.GATEWAY_ID);

  const typing = new TypingTracker(io);
  const expiry = new TokenExpiry();
  const presence = new PresenceService({ io, store: presenceStore, instanceId: config.GATEWAY_ID, conversations, log });
  await presence.start();
  const roomNames = new RoomNames(io, (room) => rooms.conversationOf(room) !== null);
  const releaseRequest = releaseHandshakeRequests(io);
  const membershipFeed = followMembership({ io, amqp, gatewayId: config.GATEWAY_ID, log, membership, conversations, users: new ProfileCache(users), presence: presenceStore, roomNames, ledger });
  // On a first start the membership queue does not exist yet: events published before it is
  // bound would reach no instance. Wait for the broker a little (it is retried forever anyway).
  await amqp.whenConnected(10_000);

  io.use(handshake(verifier));
  // Rooms are joined before the client hears "connected", so nothing sent right after is missed.
  io.use(async (socket, next) => {
    try {
      const mine = await conversations.listForMember(socket.data.userId);
      await socket.join([rooms.user(socket.data.userId), ...mine.map((c) => roomNames.get(rooms.conversation(c.id)))]);
      socket.data.conversations = mine;
      await presence.register(socket, mine);
      next();
    } catch (e) {
      log.error('connection setup failed', { err: e });
      next(new Error('unavailable'));
    }
  });
  // Shared by every socket (they find themselves in `this`): an idle connection holds no closures of ours.
  const inFlight = new InFlight();
  const listen = shareAnyListener(createHandlers(io, { service, verifier, log, typing, expiry, inFlight }));
  function closing(this: ChatSocket) {
    expiry.untrack(this);
    typing.stopAll(this.data.userId);
    // The socket's rooms are still known while it is disconnecting: they say whom to tell it
    // went offline without a database query per disconnect (a mass reconnect would flood it).
    const conversationIds = [...this.rooms].map(rooms.conversationOf).filter((id): id is string => id !== null);
    void presence.disconnected(this, conversationIds).catch((e) => log.warn('presence disconnect failed', { err: e }));
  }
  io.on('connection', async (socket) => {
    // socket.handshake has taken what it keeps from the request.
    releaseRequest(socket);
    listen(socket);
    socket.on('disconnecting', closing);
    expiry.track(socket);
    const conversations = socket.data.conversations ?? [];
    // Assigned, not deleted: a delete would turn every socket's data object into a dictionary.
    socket.data.conversations = undefined;
    await presence.sendSnapshot(socket, conversations).catch((e) => log.warn('presence snapshot failed', { err: e }));
  });

  // When an instance dies its clients all reconnect here at once; Node's default accept queue (511)
  // overflowed and reset connects, so the kernel's limit (somaxconn) applies instead.
  await new Promise<void>((resolve) => httpServer.listen({ port: config.PORT, host: config.HOST, backlog: 4096 }, resolve));
  log.info('listening', { port: config.PORT });

  // SIGTERM: readiness fails at once and the instance keeps serving for SHUTDOWN_DELAY_MS (the
  // Service or ingress stops sending it new connections); then it refuses new connections,
  // answers every request already begun (a send waiting for its publish confirm), and closes
  // the sockets' transports: clients see a transport close, reconnect through the ingress to
  // another instance and catch up there.
  onShutdown(log, async () => {
    const closed = closeServer(httpServer);
    const drained = await inFlight.drained(config.PUBLISH_CONFIRM_TIMEOUT_MS + 1000);
    if (!drained) log.warn('closing with socket requests in flight', { inFlight: inFlight.count });
    presence.stop();
    await new Promise<void>((r) => io.close(() => r()));
    await closed;
    await Promise.allSettled([membershipFeed.close(), publisher.close(), amqp.close(), mongo.close(), redis.quit(), pubClient.quit(), subClient.quit()]);
  });
}

main().catch((e) => {
  if (e instanceof ConfigError) process.stderr.write(`socket-gateway: ${e.message}\n`);
  else createLogger('gateway').error('failed to start', { err: e });
  process.exit(e instanceof ConfigError ? 78 : 1);
});

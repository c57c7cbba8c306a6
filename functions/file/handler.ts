import { createVerifier } from '@chat/shared/auth/verifier';
import { readSecret } from '@chat/shared/config';
import { createApp } from '@chat/shared/http/app';
import { connectMongo } from '@chat/shared/infra/mongo';
import { createPublisher, fireAndForget } from '@chat/shared/infra/rabbit';
import { createLogger } from '@chat/shared/log';
import { ConversationsRepository } from '@chat/shared/repositories/conversations';
import { FilesRepository } from '@chat/shared/repositories/files';
import { UsersRepository } from '@chat/shared/repositories/users';
import type { FunctionHandler } from '@chat/shared/runtime/serve';
import { AVATAR_UPLOADS_PREFIX, AvatarsService } from './src/avatars.service.ts';
import { loadFileConfig } from './src/config.ts';
import { FilesService } from './src/files.service.ts';
import { fileRoutes } from './src/routes.ts';
import { ObjectStorage } from './src/storage.repository.ts';

/** The file function: presigned uploads to MinIO, completion checks, previews and member-only downloads. */
export default async function createHandler(): Promise<FunctionHandler> {
  const config = loadFileConfig();
  const log = createLogger('file');
  const storage = new ObjectStorage({
    endpoint: config.S3_ENDPOINT,
    publicUrl: config.PUBLIC_URL,
    bucket: config.S3_BUCKET,
    region: config.S3_REGION,
    accessKey: readSecret('minio-access-key'),
    secretKey: readSecret('minio-secret-key'),
  });
  const [mongo] = await Promise.all([connectMongo(config.MONGO_URL), storage.ensureBucket()]);

  const service = new FilesService({
    config,
    files: new FilesRepository(mongo.models.File),
    conversations: new ConversationsRepository(mongo.models.Conversation),
    storage,
    log,
  });
  // Not part of readiness, as in auth: a new avatar is stored either way; the event is a live update.
  const publisher = createPublisher({ url: config.AMQP_URL, log, waitForBroker: true });
  const publish = fireAndForget(publisher, log);
  // Avatar uploads never completed are removed by MinIO a day later; without the permission (a
  // store managed elsewhere) they stay, which costs space, not correctness.
  void storage.expireUnder(AVATAR_UPLOADS_PREFIX, 1).catch((e) => log.warn('could not set the avatar-upload expiry', { err: e }));
  const avatars = new AvatarsService({ config, users: new UsersRepository(mongo.models), storage, log, announce: (user) => publish('user.updated', { user }) });
  const verifier = createVerifier({ jwks: new URL(config.JWKS_URL), issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE });

  const app = createApp({ log, ready: async () => void (await Promise.all([mongo.ping(), storage.ping()])) });
  fileRoutes(app, { service, avatars, verifier });

  // Every instance sweeps; each stale record is claimed by one conditional delete, so they never clash.
  const sweep = () =>
    service.sweepStalePending().then(
      (n) => n && log.info('removed stale pending uploads', { count: n }),
      (e) => log.warn('pending-upload sweep failed', { err: e }),
    );
  const timer = setInterval(sweep, config.PENDING_SWEEP_INTERVAL_SECONDS * 1000);
  timer.unref();
  void sweep();

  return {
    app,
    close: async () => {
      clearInterval(timer);
      await Promise.all([mongo.close(), publisher.close()]);
    },
  };
}

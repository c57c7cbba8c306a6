import { createVerifier } from '@chat/shared/auth/verifier';
import { readSecret } from '@chat/shared/config';
import { createApp } from '@chat/shared/http/app';
import { connectMongo } from '@chat/shared/infra/mongo';
import { createPublisher, fireAndForget } from '@chat/shared/infra/rabbit';
import { connectRedis } from '@chat/shared/infra/redis';
import { createLogger } from '@chat/shared/log';
import { UsersRepository } from '@chat/shared/repositories/users';
import type { FunctionHandler } from '@chat/shared/runtime/serve';
import { AuthService } from './src/auth.service.ts';
import { loadAuthConfig } from './src/config.ts';
import { loadSigningKeys } from './src/keys.ts';
import { RefreshTokensRepository } from './src/refresh-tokens.repository.ts';
import { authRoutes } from './src/routes.ts';

/** The auth function: register, login, token rotation and the JWKS. */
export default async function createHandler(): Promise<FunctionHandler> {
  const config = loadAuthConfig();
  const log = createLogger('auth');
  const redis = connectRedis(config.REDIS_URL, config.REDIS_PREFIX);
  const [keys, mongo] = await Promise.all([loadSigningKeys(readSecret('jwt-signing-keys')), connectMongo(config.MONGO_URL)]);

  // Not part of readiness: signing in works without the broker; a rename made meanwhile waits for
  // a reconnecting broker (up to the confirm timeout), else others see it at their next load.
  const publisher = createPublisher({ url: config.AMQP_URL, log, waitForBroker: true });
  const publish = fireAndForget(publisher, log);

  const service = new AuthService({
    config,
    users: new UsersRepository(mongo.models),
    tokens: new RefreshTokensRepository(mongo.models.RefreshToken),
    keys,
    redis,
    announce: (user) => publish('user.updated', { user }),
  });
  // auth owns the keys, so it verifies against them directly instead of fetching its own JWKS.
  const verifier = createVerifier({ jwks: keys.jwks, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE });

  const app = createApp({ log, ready: async () => void (await Promise.all([mongo.ping(), redis.ping()])) });
  authRoutes(app, { service, keys, verifier, config });

  return {
    app,
    close: async () => {
      await Promise.all([mongo.close(), redis.quit(), publisher.close()]);
    },
  };
}

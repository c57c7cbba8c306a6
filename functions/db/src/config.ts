import { commonConfig, env, loadConfig } from '@chat/shared/config';

export const dbConfigShape = {
  MONGO_URL: commonConfig.MONGO_URL,
  AMQP_URL: commonConfig.AMQP_URL,
  REDIS_URL: commonConfig.REDIS_URL,
  REDIS_PREFIX: commonConfig.REDIS_PREFIX,
  JWKS_URL: commonConfig.JWKS_URL,
  JWT_ISSUER: commonConfig.JWT_ISSUER,
  JWT_AUDIENCE: commonConfig.JWT_AUDIENCE,
  SEARCH_RESULTS_MAX: env.int(50, 1, 200),
  /** Largest batch of events the connector may deliver in one call. */
  EVENT_BATCH_MAX: env.int(1000, 1, 10_000),
};

export type DbConfig = ReturnType<typeof loadDbConfig>;
export const loadDbConfig = (e: Record<string, string | undefined> = process.env) => loadConfig(dbConfigShape, e);

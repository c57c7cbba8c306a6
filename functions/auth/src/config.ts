import { z } from 'zod';
import { commonConfig, env, loadConfig } from '@chat/shared/config';
import { LIMITS } from '@chat/shared/models/limits';

export const authConfigShape = {
  MONGO_URL: commonConfig.MONGO_URL,
  REDIS_URL: commonConfig.REDIS_URL,
  REDIS_PREFIX: commonConfig.REDIS_PREFIX,
  /** user.updated events (a changed display name) go to the gateways through RabbitMQ. */
  AMQP_URL: commonConfig.AMQP_URL,
  JWT_ISSUER: commonConfig.JWT_ISSUER,
  JWT_AUDIENCE: commonConfig.JWT_AUDIENCE,
  ACCESS_TOKEN_TTL_SECONDS: env.int(LIMITS.accessTokenMaxSeconds, 30, LIMITS.accessTokenMaxSeconds),
  REFRESH_TOKEN_TTL_DAYS: env.int(30, 1, 365),
  LOGIN_MAX_FAILURES_PER_USER: env.int(10, 1),
  LOGIN_MAX_FAILURES_PER_IP: env.int(50, 1),
  LOGIN_FAILURE_WINDOW_SECONDS: env.int(900, 1),
  REGISTER_MAX_PER_IP: env.int(30, 1),
  REGISTER_WINDOW_SECONDS: env.int(3600, 1),
  /** auto: Secure cookies when the ingress says the request came over https. */
  COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
};

export type AuthConfig = ReturnType<typeof loadAuthConfig>;
export const loadAuthConfig = (e: Record<string, string | undefined> = process.env) => loadConfig(authConfigShape, e);

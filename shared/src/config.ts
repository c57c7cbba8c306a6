import { z } from 'zod';
import { ConfigError } from './secrets.ts';

export { ConfigError, readSecret, secretsDir } from './secrets.ts';

/**
 * Settings come from the environment, validated once at start. A bad value stops the process
 * with a message naming the variable, instead of failing later on the first request.
 */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    const name = String(i.path[0] ?? '?');
    const value = env[name];
    const shown = value === undefined ? 'unset' : /SECRET|PASSWORD|KEY|TOKEN/i.test(name) ? '<hidden>' : JSON.stringify(value);
    return `  ${name} (${shown}): ${i.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** Reusable field types so every service spells the same setting the same way. */
export const env = {
  port: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def),
  url: (def: string) => z.string().url().default(def),
  str: (def: string) => z.string().min(1).default(def),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  list: (def: string) =>
    z
      .string()
      .default(def)
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
};

/** Connection settings most services share. */
export const commonConfig = {
  MONGO_URL: env.str('mongodb://127.0.0.1:27017/chat'),
  REDIS_URL: env.str('redis://127.0.0.1:6379'),
  AMQP_URL: env.str('amqp://guest:guest@127.0.0.1:5672'),
  /** Prefix for every Redis key and pub/sub channel, so several stacks can share one Redis. */
  REDIS_PREFIX: env.str('chat:'),
  JWT_ISSUER: env.str('chat-auth'),
  JWT_AUDIENCE: env.str('chat'),
  JWKS_URL: env.url('http://127.0.0.1:8080/api/auth/.well-known/jwks.json'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
};

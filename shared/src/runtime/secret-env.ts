import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { secretsDir } from '../secrets.ts';

/**
 * Settings whose values carry credentials, and the OpenFaaS secret each may come from. OpenFaaS
 * gives functions secrets only as files, and a Function's environment is plain text in its
 * resource, so in a cluster these URLs are secrets; locally they stay plain env vars.
 */
export const SECRET_ENV: Readonly<Record<string, string>> = {
  'mongo-url': 'MONGO_URL',
  'redis-url': 'REDIS_URL',
  'amqp-url': 'AMQP_URL',
};

/**
 * Sets each variable of `mapping` that is unset from its secret file, when that file exists.
 * An explicit env var wins, so nothing changes where no such secret is mounted. Returns the
 * names it set (never the values).
 */
export function envFromSecrets(mapping: Readonly<Record<string, string>> = SECRET_ENV, env: Record<string, string | undefined> = process.env): string[] {
  const dir = secretsDir(env);
  const set: string[] = [];
  for (const [secret, name] of Object.entries(mapping)) {
    if (env[name] !== undefined && env[name] !== '') continue;
    const file = path.join(dir, secret);
    if (!existsSync(file)) continue;
    env[name] = readFileSync(file, 'utf8').trim();
    set.push(name);
  }
  return set;
}

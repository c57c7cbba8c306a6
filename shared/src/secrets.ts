import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The half of the configuration that needs no schema library: secret files, and the error a bad
 * setting raises. The function runtime imports only this, so it can listen before zod and the
 * rest of a function are loaded (config.ts re-exports all of it).
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const OPENFAAS_SECRETS = '/var/openfaas/secrets';

/** Where secrets live: OpenFaaS mounts them in production; the local stack writes .local/secrets. */
export function secretsDir(e: Record<string, string | undefined> = process.env): string {
  if (e.SECRETS_DIR) return e.SECRETS_DIR;
  if (existsSync(OPENFAAS_SECRETS)) return OPENFAAS_SECRETS;
  return path.resolve('.local/secrets');
}

/** Reads a secret file (never an env var, so it does not leak through `ps` or crash dumps). */
export function readSecret(name: string, e: Record<string, string | undefined> = process.env): string {
  const file = path.join(secretsDir(e), name);
  if (!existsSync(file)) throw new ConfigError(`Missing secret "${name}" (expected at ${file}).`);
  return readFileSync(file, 'utf8').trim();
}

import { randomBytes, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Local secrets, generated once into a git-ignored folder and read from files by the services
 * (in production OpenFaaS mounts the same names under /var/openfaas/secrets).
 */
export function signingKeySet(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  // First key signs; later keys only verify. Rotation = put a new key first, drop the old one
  // after the access-token lifetime has passed.
  return JSON.stringify({ keys: [{ ...jwk, kid: randomUUID(), alg: 'EdDSA', use: 'sig' }] }, null, 2);
}

export function vapidKeys(): string {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pub = publicKey.export({ format: 'jwk' });
  const priv = privateKey.export({ format: 'jwk' });
  const raw = Buffer.concat([Buffer.from([4]), Buffer.from(pub.x!, 'base64url'), Buffer.from(pub.y!, 'base64url')]);
  return JSON.stringify({ publicKey: raw.toString('base64url'), privateKey: priv.d });
}

const token = (n = 32) => randomBytes(n).toString('base64url');

export const SECRET_GENERATORS: Record<string, () => string> = {
  'jwt-signing-keys': signingKeySet,
  'connector-secret': () => token(),
  'minio-access-key': () => `chat${token(9)}`,
  'minio-secret-key': () => token(30),
  'vapid-keys': vapidKeys,
  'postgres-password': () => token(24),
};

export function ensureSecrets(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, gen] of Object.entries(SECRET_GENERATORS)) {
    const file = path.join(dir, name);
    if (!existsSync(file)) writeFileSync(file, gen(), { mode: 0o600 });
  }
}

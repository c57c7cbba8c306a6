import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JSONWebKeySet, type JWK, type CryptoKey } from 'jose';
import { ACCESS_TOKEN_ALGORITHMS } from '@chat/shared/auth/verifier';
import { ConfigError } from '@chat/shared/config';

/**
 * The signing key set (secret "jwt-signing-keys": {keys: [private JWK, …]}). The first key signs;
 * every key is published in the JWKS, so a rotated-out key still verifies tokens it signed until
 * they expire and nobody is logged out by a rotation.
 */
export interface SigningKeys {
  jwks: JSONWebKeySet;
  sign(claims: { sub: string; issuer: string; audience: string; ttlSeconds: number }): Promise<string>;
}

const PRIVATE_FIELDS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

export async function loadSigningKeys(secret: string): Promise<SigningKeys> {
  let parsed: { keys?: JWK[] };
  try {
    parsed = JSON.parse(secret) as { keys?: JWK[] };
  } catch {
    throw new ConfigError('Secret "jwt-signing-keys" is not JSON.');
  }
  const keys = parsed.keys ?? [];
  if (keys.length === 0) throw new ConfigError('Secret "jwt-signing-keys" holds no keys.');
  for (const k of keys) {
    if (!k.kid || !k.alg || !ACCESS_TOKEN_ALGORITHMS.includes(k.alg) || !k.d)
      throw new ConfigError('Every key in "jwt-signing-keys" needs kid, a private part, and alg EdDSA or ES256.');
  }
  const active = keys[0]!;
  const signingKey = (await importJWK(active, active.alg)) as CryptoKey;
  const publicKeys = keys.map((k) => {
    const pub: Record<string, unknown> = { ...k, use: 'sig' };
    for (const f of PRIVATE_FIELDS) delete pub[f];
    return pub as JWK;
  });
  return {
    jwks: { keys: publicKeys },
    sign: ({ sub, issuer, audience, ttlSeconds }) =>
      new SignJWT({})
        .setProtectedHeader({ alg: active.alg!, kid: active.kid!, typ: 'JWT' })
        .setSubject(sub)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(signingKey),
  };
}

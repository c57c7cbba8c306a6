import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { AppError, errors } from '../errors.ts';

/** Access tokens are signed with an asymmetric key; anything else (none, HS256, …) is refused. */
export const ACCESS_TOKEN_ALGORITHMS = ['EdDSA', 'ES256'];

export interface VerifierOptions {
  /** The JWKS URL (every service but auth) or the key set itself (auth, which owns the keys). */
  jwks: URL | JSONWebKeySet;
  issuer: string;
  audience: string;
  /** How many verified tokens to remember (0 turns the cache off); default 10,000. */
  cacheSize?: number;
}

export interface AccessTokenClaims {
  userId: string;
  expiresAt: number;
}

export interface TokenVerifier {
  verify(token: string | undefined | null): Promise<AccessTokenClaims>;
  /**
   * The claims of a token this verifier has already verified and whose exp has not passed, at
   * once (no promise); undefined for any other token, which only verify() can judge.
   */
  cached(token: string | undefined | null): AccessTokenClaims | undefined;
}

export function createVerifier(opts: VerifierOptions): TokenVerifier {
  const keys: JWTVerifyGetKey =
    opts.jwks instanceof URL
      ? // Cached for 10 minutes; an unknown kid refetches at most every 30 s, which is how a
        // rotated-in key is picked up without a restart.
        createRemoteJWKSet(opts.jwks, { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5000 })
      : createLocalJWKSet(opts.jwks);
  // Verified tokens, until they expire: a client sends the same access token with every call for
  // up to 15 minutes, and the signature check is the dominant cost of an authenticated request.
  // Only successes are remembered, never longer than the token's own exp.
  const verified = new Map<string, AccessTokenClaims>();
  const remember = (token: string, claims: AccessTokenClaims) => {
    if (verified.size >= (opts.cacheSize ?? 10_000)) verified.delete(verified.keys().next().value!);
    verified.set(token, claims);
  };
  const cached = (token: string | undefined | null) => {
    if (!token) return undefined;
    const hit = verified.get(token);
    if (!hit) return undefined;
    if (hit.expiresAt * 1000 > Date.now()) return hit;
    verified.delete(token);
    return undefined;
  };
  return {
    cached,
    async verify(token) {
      if (!token) throw errors.unauthorized();
      const hit = cached(token);
      if (hit) return hit;
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: opts.issuer,
          audience: opts.audience,
          algorithms: ACCESS_TOKEN_ALGORITHMS,
          requiredClaims: ['sub', 'exp', 'iat'],
        });
        const claims = { userId: payload.sub!, expiresAt: payload.exp! };
        if (opts.cacheSize !== 0) remember(token, claims);
        return claims;
      } catch (e) {
        // An unreachable JWKS is our outage, not the caller's bad token.
        if (e instanceof joseErrors.JWKSTimeout || (e instanceof TypeError && /fetch/i.test(e.message)))
          throw new AppError('unavailable', 'Token keys are unavailable; retry shortly.', { cause: e });
        throw errors.unauthorized('Invalid or expired access token.');
      }
    },
  };
}

export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m ? m[1]! : null;
}

import { generateKeyPair, exportJWK, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createVerifier } from './verifier.ts';

const ISS = 'chat-auth';
const AUD = 'chat';

describe('access token verifier', () => {
  let priv: CryptoKey;
  let other: CryptoKey;
  let jwk: JWK;
  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    priv = pair.privateKey as CryptoKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' };
    other = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey as CryptoKey;
  });
  const verifier = () => createVerifier({ jwks: { keys: [jwk] }, issuer: ISS, audience: AUD });
  const sign = (key: CryptoKey, o: { iss?: string; aud?: string; exp?: string | number } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setSubject('user-1')
      .setIssuer(o.iss ?? ISS)
      .setAudience(o.aud ?? AUD)
      .setIssuedAt()
      .setExpirationTime(o.exp ?? '5m')
      .sign(key);

  it('accepts a token signed by a published key and returns its subject', async () => {
    await expect(verifier().verify(await sign(priv))).resolves.toMatchObject({ userId: 'user-1' });
  });

  it.each([
    ['a missing token', async () => undefined],
    ['a token signed by another key', async () => sign(other)],
    ['a wrong audience', async () => sign(priv, { aud: 'other' })],
    ['a wrong issuer', async () => sign(priv, { iss: 'evil' })],
    ['an expired token', async () => sign(priv, { exp: Math.floor(Date.now() / 1000) - 10 })],
    ['alg none', async () => new UnsecuredJWT({ sub: 'user-1' }).setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime('5m').encode()],
    [
      'HS256 keyed with the public key',
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
          .setSubject('user-1')
          .setIssuer(ISS)
          .setAudience(AUD)
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(jwk.x!)),
    ],
    ['garbage', async () => 'not.a.jwt'],
  ])('refuses %s as unauthorized', async (_name, make) => {
    await expect(verifier().verify(await make())).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
  });
});

describe('verified-token cache', () => {
  it('answers a repeated token from memory but never past its exp', async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k', alg: 'EdDSA' };
    const verifier = createVerifier({ jwks: { keys: [jwk] }, issuer: ISS, audience: AUD });
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid: 'k' }).setSubject('u').setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime(exp).sign(pair.privateKey);
    expect(verifier.cached(token)).toBeUndefined();
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'u' });
    expect(verifier.cached(token)).toMatchObject({ userId: 'u' });
    // Only that exact string: a changed signature or payload is not the verified token.
    expect(verifier.cached(token.slice(0, -2) + (token.endsWith('AA') ? 'AB' : 'AA'))).toBeUndefined();
    expect(verifier.cached(null)).toBeUndefined();
    vi.useFakeTimers({ now: (exp + 1) * 1000, toFake: ['Date'] });
    try {
      expect(verifier.cached(token)).toBeUndefined();
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'unauthorized' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('remembers nothing that failed verification', async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k', alg: 'EdDSA' };
    const verifier = createVerifier({ jwks: { keys: [jwk] }, issuer: ISS, audience: AUD });
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid: 'k' }).setSubject('u').setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime('5m').sign(other.privateKey);
    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'unauthorized' });
    expect(verifier.cached(forged)).toBeUndefined();
  });
});

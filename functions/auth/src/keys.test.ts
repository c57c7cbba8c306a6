import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { createVerifier } from '@chat/shared/auth/verifier';
import { signingKeySet } from '../../../scripts/stack/secrets.ts';
import { loadSigningKeys } from './keys.ts';

describe('signing keys', () => {
  it('publishes only public parts and signs with the first key', async () => {
    const keys = await loadSigningKeys(signingKeySet());
    expect(keys.jwks.keys).toHaveLength(1);
    expect(keys.jwks.keys[0]).not.toHaveProperty('d');
    const token = await keys.sign({ sub: 'u1', issuer: 'i', audience: 'a', ttlSeconds: 60 });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'EdDSA', kid: keys.jwks.keys[0]!.kid });
  });

  it('keeps verifying tokens of a rotated-out key while it is still published', async () => {
    const old = JSON.parse(signingKeySet()).keys[0];
    const fresh = JSON.parse(signingKeySet()).keys[0];
    const before = await loadSigningKeys(JSON.stringify({ keys: [old] }));
    const oldToken = await before.sign({ sub: 'u1', issuer: 'i', audience: 'a', ttlSeconds: 60 });
    const after = await loadSigningKeys(JSON.stringify({ keys: [fresh, old] }));
    const verifier = createVerifier({ jwks: after.jwks, issuer: 'i', audience: 'a' });
    await expect(verifier.verify(oldToken)).resolves.toMatchObject({ userId: 'u1' });
    const newToken = await after.sign({ sub: 'u2', issuer: 'i', audience: 'a', ttlSeconds: 60 });
    expect(decodeProtectedHeader(newToken).kid).toBe(fresh.kid);
  });

  it('refuses a key set without private keys or with a symmetric algorithm', async () => {
    await expect(loadSigningKeys('{"keys":[]}')).rejects.toThrow(/no keys/);
    await expect(loadSigningKeys('{"keys":[{"kty":"oct","k":"abc","kid":"x","alg":"HS256"}]}')).rejects.toThrow(/EdDSA or ES256/);
  });
});

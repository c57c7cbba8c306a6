import { describe, expect, it } from 'vitest';
import { tokenSubject } from './jwt.ts';

const b64url = (s: string) => Buffer.from(s).toString('base64url');
const token = (claims: object) => `${b64url('{"alg":"EdDSA"}')}.${b64url(JSON.stringify(claims))}.c2ln`;

describe('tokenSubject', () => {
  it("reads the user id from an access token's payload (base64url, unpadded)", () => {
    // 25 characters of JSON make a payload whose base64 needs padding; "?>" makes '-' and '_'.
    expect(tokenSubject(token({ sub: '6b0f0ca83f61ec8b6564a589', x: '?>?>' }))).toBe('6b0f0ca83f61ec8b6564a589');
    expect(tokenSubject(token({ sub: 'u1' }))).toBe('u1');
  });

  it('is null for anything that is not a token with a string subject', () => {
    expect(tokenSubject('')).toBeNull();
    expect(tokenSubject('opaque')).toBeNull();
    expect(tokenSubject('a.!!!.c')).toBeNull();
    expect(tokenSubject(token({ sub: 42 }))).toBeNull();
    expect(tokenSubject(token({}))).toBeNull();
  });
});

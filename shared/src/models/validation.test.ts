import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits.ts';
import { registerRequest, sendMessagePayload } from './validation.ts';

describe('registerRequest', () => {
  it('lower-cases and trims the username', () => {
    expect(registerRequest.parse({ username: ' Alice ', password: 'password1' }).username).toBe('alice');
  });

  it.each([
    [{ username: 'ab', password: 'password1' }, 'username'],
    [{ username: 'a'.repeat(33), password: 'password1' }, 'username'],
    [{ username: 'al ice', password: 'password1' }, 'username'],
    [{ username: { $gt: '' }, password: 'password1' }, 'username'],
    [{ username: 'alice', password: 'short' }, 'password'],
    [{ username: 'alice', password: 'x'.repeat(257) }, 'password'],
    [{ username: 'alice', password: 'password1', displayName: '' }, 'displayName'],
    [{ username: 'alice', password: 'password1', admin: true }, ''],
  ])('rejects %j', (input, field) => {
    const r = registerRequest.safeParse(input);
    expect(r.success).toBe(false);
    if (field) expect(r.error!.issues[0]!.path[0]).toBe(field);
  });
});

describe('sendMessagePayload', () => {
  const base = { conversationId: 'c1', clientMsgId: 'm1' };
  it('trims the body', () => {
    expect(sendMessagePayload.parse({ ...base, body: '  hi  ' }).body).toBe('hi');
  });
  it('refuses an empty body without attachments but accepts it with one', () => {
    expect(sendMessagePayload.safeParse({ ...base, body: '   ' }).success).toBe(false);
    expect(sendMessagePayload.safeParse({ ...base, body: '', attachments: ['f1'] }).success).toBe(true);
  });
  it('enforces the body limit after trimming', () => {
    expect(sendMessagePayload.safeParse({ ...base, body: 'x'.repeat(LIMITS.bodyMax) + '   ' }).success).toBe(true);
    expect(sendMessagePayload.safeParse({ ...base, body: 'x'.repeat(LIMITS.bodyMax + 1) }).success).toBe(false);
  });
});

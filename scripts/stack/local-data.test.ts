import { describe, expect, it } from 'vitest';
import { checkoutId, confirmation, devNames, isYes, parseResetArgs } from './local-data.ts';

describe('per-checkout local data names', () => {
  it('differ between checkouts and are stable for one', () => {
    const a = devNames('/home/me/chat');
    expect(devNames('/home/me/chat')).toEqual(a);
    expect(devNames('/home/me/chat-2').database).not.toBe(a.database);
    expect(a.database).toMatch(/^chat_dev_[0-9a-f]{10}$/);
    expect(a.vhost).toBe(`chat-dev-${checkoutId('/home/me/chat')}`);
    expect(a.redisPrefix).toBe(`chat-dev-${checkoutId('/home/me/chat')}:`);
  });
  it('never reuse the name every clone used to share', () => {
    expect(devNames('/').database).not.toBe('chat_dev');
  });
});

describe('npm run reset arguments', () => {
  it('accepts --yes (or -y) and nothing else', () => {
    expect(parseResetArgs([])).toEqual({ yes: false });
    expect(parseResetArgs(['--yes'])).toEqual({ yes: true });
    expect(parseResetArgs(['-y'])).toEqual({ yes: true });
    expect(parseResetArgs(['--yse'])).toMatchObject({ error: expect.stringContaining('--yse') });
  });
  it('asks on a terminal, refuses without one, and skips the question with --yes', () => {
    expect(confirmation({ yes: false }, true)).toBe('ask');
    expect(confirmation({ yes: false }, false)).toBe('refuse');
    expect(confirmation({ yes: true }, false)).toBe('proceed');
  });
  it('deletes only on an explicit yes', () => {
    for (const a of ['y', 'Y', 'yes', ' YES ']) expect(isYes(a)).toBe(true);
    for (const a of ['', 'n', 'no', 'yep', 'sure', 'y es']) expect(isYes(a)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { presenceLabel, withTyper } from './presence.ts';

const fmt = (iso: string) => iso.slice(11, 16);

describe('presenceLabel', () => {
  it('says online or last seen while connected', () => {
    expect(presenceLabel({ status: 'online', lastSeen: null }, true, null, fmt)).toBe('Online');
    expect(presenceLabel({ status: 'offline', lastSeen: '2026-01-01T09:41:00.000Z' }, true, null, fmt)).toBe('Last seen 09:41');
    expect(presenceLabel(undefined, true, null, fmt)).toBe('Offline');
  });

  it('never says online while this client is offline', () => {
    // Online when the connection dropped: seen then.
    expect(presenceLabel({ status: 'online', lastSeen: null }, false, '2026-01-01T10:05:00.000Z', fmt)).toBe('Last seen 10:05');
    expect(presenceLabel({ status: 'offline', lastSeen: '2026-01-01T09:41:00.000Z' }, false, '2026-01-01T10:05:00.000Z', fmt)).toBe('Last seen 09:41');
    expect(presenceLabel(undefined, false, null, fmt)).toBe('Presence unknown');
  });
});

describe('withTyper', () => {
  it('adds and removes once, returning the same list when nothing changes', () => {
    const none: readonly string[] = [];
    const one = withTyper(none, 'bob', true);
    expect(one).toEqual(['bob']);
    expect(withTyper(one, 'bob', true)).toBe(one);
    expect(withTyper(one, 'ann', false)).toBe(one);
    expect(withTyper(withTyper(one, 'ann', true), 'bob', false)).toEqual(['ann']);
  });
});

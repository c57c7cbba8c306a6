import { describe, expect, it } from 'vitest';
import { notificationLevel, pushesAtLevel, QUIET_GROUP_ABOVE } from './notification-level.ts';

describe('notificationLevel', () => {
  it('defaults to all for direct conversations and groups up to the limit, mentions above it', () => {
    expect(notificationLevel(undefined, { type: 'direct', memberCount: 2 })).toBe('all');
    expect(notificationLevel(undefined, { type: 'group', memberCount: QUIET_GROUP_ABOVE })).toBe('all');
    expect(notificationLevel(undefined, { type: 'group', memberCount: QUIET_GROUP_ABOVE + 1 })).toBe('mentions');
  });

  it('takes the level a member set, and muted as none, over the default', () => {
    expect(notificationLevel({ muted: false, level: 'all' }, { type: 'group', memberCount: 50 })).toBe('all');
    expect(notificationLevel({ muted: false, level: 'mentions' }, { type: 'direct', memberCount: 2 })).toBe('mentions');
    expect(notificationLevel({ muted: true, level: null }, { type: 'direct', memberCount: 2 })).toBe('none');
    expect(notificationLevel({ muted: false, level: 'bogus' }, { type: 'group', memberCount: 50 })).toBe('mentions');
  });
});

describe('pushesAtLevel', () => {
  const msg = (mentions: string[], kind: 'user' | 'system' = 'user') => ({ kind, senderId: 's', mentions });

  it('pushes everything at all, only mentions of the member at mentions, nothing at none', () => {
    expect(pushesAtLevel('all', msg([]), 'u')).toBe(true);
    expect(pushesAtLevel('mentions', msg([]), 'u')).toBe(false);
    expect(pushesAtLevel('mentions', msg(['v']), 'u')).toBe(false);
    expect(pushesAtLevel('mentions', msg(['v', 'u']), 'u')).toBe(true);
    expect(pushesAtLevel('none', msg(['u']), 'u')).toBe(false);
  });

  it('never pushes system messages', () => {
    expect(pushesAtLevel('all', msg([], 'system'), 'u')).toBe(false);
  });
});

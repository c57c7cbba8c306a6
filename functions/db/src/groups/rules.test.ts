import { describe, expect, it } from 'vitest';
import { planAddMembers, planDemote, planPromote, planRemove, planRename } from './rules.ts';

const group = (over: Partial<{ memberIds: string[]; admins: string[]; title: string | null }> = {}) => ({
  type: 'group' as const,
  title: 'Team',
  memberIds: ['a', 'b', 'c'],
  admins: ['a'],
  ...over,
});
const direct = { type: 'direct' as const, title: null, memberIds: ['a', 'b'], admins: [] };
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'none';
};

describe('group rules', () => {
  it('an admin renames a group, recording the old title; the same title again changes nothing', () => {
    expect(planRename(group(), 'a', 'New')).toEqual({
      change: { title: 'New' },
      events: [{ type: 'renamed', actorId: 'a', title: 'New', previousTitle: 'Team' }],
      live: { kind: 'settings' },
    });
    expect(planRename(group(), 'a', 'Team')).toBeNull();
  });

  it('a plain member may not rename (forbidden); a direct conversation has no title to set (invalid)', () => {
    expect(code(() => planRename(group(), 'b', 'X'))).toBe('forbidden');
    expect(code(() => planRename(direct, 'a', 'X'))).toBe('invalid_request');
  });

  it('adding records only the users not yet members, and nothing when all are', () => {
    expect(planAddMembers(group(), 'a', ['d', 'b', 'd'])?.events).toEqual([{ type: 'members_added', actorId: 'a', userIds: ['d'] }]);
    expect(planAddMembers(group(), 'a', ['b'])).toBeNull();
    expect(code(() => planAddMembers(group(), 'b', ['d']))).toBe('forbidden');
  });

  it('removing someone else is member_removed; removing yourself is member_left', () => {
    expect(planRemove(group(), 'a', 'b').events).toEqual([{ type: 'member_removed', actorId: 'a', userId: 'b' }]);
    expect(planRemove(group(), 'c', 'c').events).toEqual([{ type: 'member_left', actorId: 'c' }]);
    expect(code(() => planRemove(group(), 'b', 'c'))).toBe('forbidden');
    expect(code(() => planRemove(group(), 'a', 'z'))).toBe('not_found');
  });

  it('when the last admin leaves, the longest-standing member becomes admin in the same change', () => {
    const p = planRemove(group(), 'a', 'a');
    expect(p.change).toEqual({ memberIds: ['b', 'c'], admins: ['b'] });
    expect(p.events).toEqual([
      { type: 'member_left', actorId: 'a' },
      { type: 'admin_added', actorId: 'b', userId: 'b' },
    ]);
    // Another admin remains: nobody is promoted.
    expect(planRemove(group({ admins: ['a', 'c'] }), 'a', 'a').change.admins).toEqual(['c']);
  });

  it('admins promote members; promoting an admin again changes nothing; outsiders of the group are not_found', () => {
    expect(planPromote(group(), 'a', 'b')).toMatchObject({ change: { admins: ['a', 'b'] }, events: [{ type: 'admin_added', actorId: 'a', userId: 'b' }] });
    expect(planPromote(group({ admins: ['a', 'b'] }), 'a', 'b')).toBeNull();
    expect(code(() => planPromote(group(), 'b', 'c'))).toBe('forbidden');
    expect(code(() => planPromote(group(), 'a', 'z'))).toBe('not_found');
  });

  it('a group keeps at least one admin: the last one cannot be demoted (conflict), another can, yourself included', () => {
    expect(code(() => planDemote(group(), 'a', 'a'))).toBe('conflict');
    expect(planDemote(group({ admins: ['a', 'b'] }), 'a', 'a')).toMatchObject({ change: { admins: ['b'] }, events: [{ type: 'admin_removed', actorId: 'a', userId: 'a' }] });
    expect(planDemote(group(), 'a', 'b')).toBeNull();
  });
});

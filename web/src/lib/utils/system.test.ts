import { describe, expect, it } from 'vitest';
import { describeSystem } from './system.ts';

const names: Record<string, string> = { a: 'Alice', b: 'Bob', c: 'Carol', me: 'You' };
const nameOf = (id: string) => names[id] ?? 'Someone';

describe('describeSystem', () => {
  it.each([
    [{ type: 'conversation_created', actorId: 'a' }, 'Alice created the group'],
    [{ type: 'members_added', actorId: 'a', userIds: ['b'] }, 'Alice added Bob'],
    [{ type: 'members_added', actorId: 'a', userIds: ['b', 'c', 'me'] }, 'Alice added Bob, Carol and you'],
    [{ type: 'member_removed', actorId: 'me', userId: 'c' }, 'You removed Carol'],
    [{ type: 'member_left', actorId: 'b' }, 'Bob left the group'],
    [{ type: 'renamed', actorId: 'a', title: 'Launch', previousTitle: 'Team' }, 'Alice renamed the group to “Launch”'],
    [{ type: 'admin_added', actorId: 'a', userId: 'b' }, 'Alice made Bob an admin'],
    [{ type: 'admin_added', actorId: 'a', userId: 'me' }, 'Alice made you an admin'],
    [{ type: 'admin_added', actorId: 'b', userId: 'b' }, 'Bob is now an admin'],
    [{ type: 'admin_added', actorId: 'me', userId: 'me' }, 'You are now an admin'],
    [{ type: 'admin_removed', actorId: 'a', userId: 'b' }, 'Alice removed Bob as admin'],
    [{ type: 'admin_removed', actorId: 'x', userId: 'x' }, 'Someone stepped down as admin'],
  ] as const)('%j → %s', (event, text) => {
    expect(describeSystem(event as never, nameOf)).toBe(text);
  });
});

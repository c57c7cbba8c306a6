import type { SystemEvent } from '@chat/shared/models/types';

/** A person's name in a system line: "You" for the reader, else their display name. */
export type NameOf = (userId: string) => string;

const list = (names: string[]) => (names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`);

/**
 * The line a system message shows ("Alice renamed the group to X"), rendered from its typed
 * event rather than stored text, so names follow profile changes. An admin_added whose actor is
 * its subject is the automatic promotion when a group's last admin leaves.
 */
export function describeSystem(e: SystemEvent, nameOf: NameOf): string {
  const actor = nameOf(e.actorId);
  // "You" starts a line; elsewhere in it the reader is "you".
  const object = (id: string) => {
    const n = nameOf(id);
    return n === 'You' ? 'you' : n;
  };
  switch (e.type) {
    case 'conversation_created':
      return `${actor} created the group`;
    case 'members_added':
      return `${actor} added ${list(e.userIds.map(object))}`;
    case 'member_removed':
      return `${actor} removed ${object(e.userId)}`;
    case 'member_left':
      return `${actor} left the group`;
    case 'renamed':
      return `${actor} renamed the group to “${e.title}”`;
    case 'admin_added':
      return e.userId === e.actorId ? `${actor} ${actor === 'You' ? 'are' : 'is'} now an admin` : `${actor} made ${object(e.userId)} an admin`;
    case 'admin_removed':
      return e.userId === e.actorId ? `${actor} stepped down as admin` : `${actor} removed ${object(e.userId)} as admin`;
  }
}

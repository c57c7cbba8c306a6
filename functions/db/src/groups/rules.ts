import { errors } from '@chat/shared/errors';
import { LIMITS } from '@chat/shared/models/limits';
import type { SystemEvent } from '@chat/shared/models/types';
import type { ConversationChange, ConversationRecord } from '@chat/shared/repositories/conversations';

/**
 * The rules of group settings and membership, as pure functions of the current record (docs/groups.md).
 * Each answers the change to make, or null when there is nothing to change (the same request
 * again): a retried request then writes and records nothing. The caller is a member (outsiders
 * were answered 404 before).
 */

/** What a group change writes, the system events it records, and how members hear of it. */
export interface Plan {
  change: ConversationChange;
  events: SystemEvent[];
  /** members: conversation.members.changed (rooms move); settings: conversation.updated. */
  live: { kind: 'members'; added: string[]; removed: string[] } | { kind: 'settings' };
}

type Group = Pick<ConversationRecord, 'type' | 'title' | 'memberIds' | 'admins'>;

function requireGroupAdmin(conv: Group, actorId: string, what: string): void {
  if (conv.type !== 'group') throw errors.invalid(`A direct conversation has no ${what}.`);
  if (!conv.admins.includes(actorId)) throw errors.forbidden(`Only group admins change the ${what}.`);
}

export function planRename(conv: Group, actorId: string, title: string): Plan | null {
  requireGroupAdmin(conv, actorId, 'title');
  if (title === conv.title) return null;
  return { change: { title }, events: [{ type: 'renamed', actorId, title, previousTitle: conv.title }], live: { kind: 'settings' } };
}

export function planAddMembers(conv: Group, actorId: string, userIds: string[]): Plan | null {
  if (conv.type !== 'group') throw errors.invalid('A direct conversation always has exactly its two members.');
  if (!conv.admins.includes(actorId)) throw errors.forbidden('Only group admins add members.');
  const added = [...new Set(userIds)].filter((u) => !conv.memberIds.includes(u));
  if (conv.memberIds.length + added.length > LIMITS.groupMembersMax) throw errors.invalid(`userIds: a group has at most ${LIMITS.groupMembersMax} members.`);
  if (added.length === 0) return null;
  return {
    change: { memberIds: [...conv.memberIds, ...added] },
    events: [{ type: 'members_added', actorId, userIds: added }],
    live: { kind: 'members', added, removed: [] },
  };
}

/**
 * An admin removes anyone, a member removes themself (leaves). A group keeps an admin: when its
 * last one goes, its longest-standing remaining member (first in memberIds) becomes admin in the
 * same write, recorded as an admin_added whose actor is that member (nobody chose them).
 */
export function planRemove(conv: Group, actorId: string, userId: string): Plan {
  if (!conv.memberIds.includes(userId)) throw errors.notFound('Member');
  if (conv.type !== 'group') throw errors.invalid('Nobody leaves a direct conversation.');
  if (userId !== actorId && !conv.admins.includes(actorId)) throw errors.forbidden('Only group admins remove other members.');
  const memberIds = conv.memberIds.filter((m) => m !== userId);
  let admins = conv.admins.filter((a) => a !== userId);
  const events: SystemEvent[] = [userId === actorId ? { type: 'member_left', actorId } : { type: 'member_removed', actorId, userId }];
  const heir = memberIds[0];
  if (admins.length === 0 && heir) {
    admins = [heir];
    events.push({ type: 'admin_added', actorId: heir, userId: heir });
  }
  return { change: { memberIds, admins }, events, live: { kind: 'members', added: [], removed: [userId] } };
}

export function planPromote(conv: Group, actorId: string, userId: string): Plan | null {
  requireGroupAdmin(conv, actorId, 'admins');
  if (!conv.memberIds.includes(userId)) throw errors.notFound('Member');
  if (conv.admins.includes(userId)) return null;
  return { change: { admins: [...conv.admins, userId] }, events: [{ type: 'admin_added', actorId, userId }], live: { kind: 'settings' } };
}

/** Admins demote admins, themselves included, as long as one admin is left. */
export function planDemote(conv: Group, actorId: string, userId: string): Plan | null {
  requireGroupAdmin(conv, actorId, 'admins');
  if (!conv.memberIds.includes(userId)) throw errors.notFound('Member');
  if (!conv.admins.includes(userId)) return null;
  if (conv.admins.length === 1) throw errors.conflict('A group keeps at least one admin: make someone else an admin first.');
  return { change: { admins: conv.admins.filter((a) => a !== userId) }, events: [{ type: 'admin_removed', actorId, userId }], live: { kind: 'settings' } };
}

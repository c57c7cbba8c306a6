import { HERE } from '@chat/shared/mentions/mentions';
import type { User } from '@chat/shared/models/types';

/**
 * The composer's `@` autocomplete, as plain functions: which `@partial` the caret is in, whom it
 * offers, and the text once one is picked. A mention starts where the gateway reads one
 * (@chat/shared/mentions/mentions): after a space, punctuation or the start of the text.
 */

export interface MentionQuery {
  /** Index of the "@". */
  start: number;
  /** What follows it up to the caret, lowercased. */
  query: string;
}

export type MentionOption = { kind: 'user'; user: User } | { kind: 'here' };

const PARTIAL = /(?:^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{0,32})$/;

export function mentionQuery(text: string, caret: number): MentionQuery | null {
  const m = PARTIAL.exec(text.slice(0, caret));
  if (!m) return null;
  return { start: caret - m[1]!.length - 1, query: m[1]!.toLowerCase() };
}

/** At most this many offered at once, as in Slack. */
export const MAX_OPTIONS = 8;

/**
 * The members matching the query by username or display name (a word of it), names that start
 * with it first, then by name; never me; `@here` last in a group when it matches.
 */
export function mentionOptions(members: readonly User[], query: string, me: string | null, group: boolean): MentionOption[] {
  const q = query.toLowerCase();
  const rank = (u: User): number => {
    const name = u.displayName.toLowerCase();
    if (u.username.startsWith(q)) return 0;
    if (name.startsWith(q)) return 1;
    if (name.split(/\s+/).some((w) => w.startsWith(q))) return 2;
    return -1;
  };
  const users = members
    .filter((u) => u.id !== me)
    .map((u) => ({ u, r: rank(u) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.u.username.localeCompare(b.u.username))
    .map(({ u }): MentionOption => ({ kind: 'user', user: u }));
  const here: MentionOption[] = group && HERE.startsWith(q) && !members.some((u) => u.username === HERE) ? [{ kind: 'here' }] : [];
  return [...users.slice(0, MAX_OPTIONS - here.length), ...here];
}

export const optionName = (o: MentionOption) => (o.kind === 'here' ? HERE : o.user.username);

/** The text with the `@partial` at query replaced by the whole mention and a space. */
export function applyMention(text: string, q: MentionQuery, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name} `;
  const rest = text.slice(caret).replace(/^[A-Za-z0-9_.-]*/, '');
  const before = text.slice(0, q.start) + inserted;
  return { text: before + (rest.startsWith(' ') ? rest.slice(1) : rest), caret: before.length };
}

/**
 * How each mentioned name of a message is highlighted: by username, `me` for mine (and for
 * `@here` when it reached me), `other` for other members it mentions. Only names the message's
 * `mentions` resolved are highlighted, so "@nobody" and an outsider's name stay plain.
 */
export function mentionHighlights(mentions: readonly string[], userOf: (id: string) => User | undefined, me: string | null): Map<string, 'me' | 'other'> {
  const out = new Map<string, 'me' | 'other'>();
  for (const id of mentions) {
    const u = userOf(id);
    if (u) out.set(u.username.toLowerCase(), id === me ? 'me' : 'other');
  }
  if (mentions.length > 0 && !out.has(HERE)) out.set(HERE, me && mentions.includes(me) ? 'me' : 'other');
  return out;
}

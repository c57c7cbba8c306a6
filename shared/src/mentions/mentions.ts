/**
 * `@username` mentions: one reading of a body shared by the gateway (which resolves them to member
 * ids when it accepts a message) and the web app (which highlights them), so what is highlighted
 * is what notified.
 *
 * A mention is "@" followed by a username (a-z, 0-9, "_", "." and "-", case-insensitive), not
 * preceded by a letter, digit or one of those marks (so "ann@example.com" mentions nobody). A
 * trailing "." or "-" ends the sentence, not the name ("thanks @bob."). Text inside inline code
 * or a fenced code block mentions nobody, as it shows literally.
 */

/** `@here`: the members connected now (Slack's meaning; `@channel`/`@all` are not offered). */
export const HERE = 'here';

const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_][A-Za-z0-9_.-]*)/g;
const CODE = /```[\s\S]*?(?:```|$)|`[^`\n]*`/g;

/** One mention in the text: where its "@" starts and the lowercased name after it. */
export interface MentionSpan {
  index: number;
  length: number;
  name: string;
}

/** Every mention-shaped `@name` of a text (not skipping code: callers pass text that is not code). */
export function mentionSpans(text: string): MentionSpan[] {
  const out: MentionSpan[] = [];
  for (const m of text.matchAll(MENTION)) {
    const name = m[2]!.replace(/[.-]+$/, '');
    if (!name) continue;
    out.push({ index: m.index + m[1]!.length, length: name.length + 1, name: name.toLowerCase() });
  }
  return out;
}

/** The names a body mentions, lowercased, each once, in order of first mention; code is skipped. */
export function mentionNames(body: string): string[] {
  return [...new Set(mentionSpans(body.replace(CODE, (c) => ' '.repeat(c.length))).map((s) => s.name))];
}

/**
 * The member ids a body mentions, in order of first mention: each `@username` of a member, and
 * for `@here` every member online now except the sender. Names of non-members mention nobody.
 */
export function resolveMentions(
  names: readonly string[],
  members: ReadonlyArray<{ id: string; username: string }>,
  opts: { senderId: string; online?: ReadonlySet<string> },
): string[] {
  const byName = new Map(members.map((m) => [m.username.toLowerCase(), m.id]));
  const out = new Set<string>();
  for (const name of names) {
    const id = byName.get(name);
    if (id) out.add(id);
    else if (name === HERE) for (const m of members) if (m.id !== opts.senderId && opts.online?.has(m.id)) out.add(m.id);
  }
  return [...out];
}

/** Whom a message counts as a mention for (badge, push level): those it mentions, never its sender. */
export const mentionedOthers = (m: { senderId: string; mentions: readonly string[] }): string[] => m.mentions.filter((u) => u !== m.senderId);

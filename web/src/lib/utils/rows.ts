import { formatDate } from './format.ts';
import type { ChatItem } from './messages.ts';

export type Row =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'msg'; key: string; item: ChatItem; groupStart: boolean; own: boolean }
  /** A membership or settings change: a centered line, not a bubble, with no actions. */
  | { kind: 'system'; key: string; item: ChatItem };

/** Consecutive messages from one sender within this window share a header. */
export const GROUP_WINDOW_MS = 5 * 60_000;

export const dayKey = (iso: string) => {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
};

export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const k = dayKey(iso);
  if (k === dayKey(now.toISOString())) return 'Today';
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (k === dayKey(y.toISOString())) return 'Yesterday';
  const sameYear = d.getFullYear() === now.getFullYear();
  return formatDate(d, { weekday: 'long', month: 'long', day: 'numeric', ...(sameYear ? {} : { year: 'numeric' }) });
}

/** Flattens messages into rows: a divider per day, and a header at the start of each sender group. */
export function buildRows(items: ChatItem[], myId: string | null, now = new Date()): Row[] {
  const rows: Row[] = [];
  let prevDay = '';
  let prev: ChatItem | null = null;
  for (const item of items) {
    const m = item.message;
    const day = dayKey(m.createdAt);
    if (day !== prevDay) {
      rows.push({ kind: 'day', key: `day:${day}`, label: dayLabel(m.createdAt, now) });
      prevDay = day;
      prev = null;
    }
    if (m.kind === 'system') {
      rows.push({ kind: 'system', key: item.key, item });
      // The next message starts a new group: a system line breaks up the conversation.
      prev = null;
      continue;
    }
    const groupStart =
      !prev ||
      prev.message.senderId !== m.senderId ||
      !!prev.message.deletedAt !== !!m.deletedAt ||
      Date.parse(m.createdAt) - Date.parse(prev.message.createdAt) > GROUP_WINDOW_MS ||
      m.replyToId !== null;
    rows.push({ kind: 'msg', key: item.key, item, groupStart, own: m.senderId === myId });
    prev = item;
  }
  return rows;
}

import type { ReadEvent } from '@chat/shared/events/bus';
import type { Message } from '@chat/shared/models/types';
import type { ChunksRepository } from '@chat/shared/repositories/chunks';
import type { ConversationRecord, ReadPositionRecord, ReadPositionsRepository } from '@chat/shared/repositories/conversations';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import { mentionedOthers } from '@chat/shared/mentions/mentions';
import { conversationSource } from './history/conversation-stream.ts';
import type { ChunkSource } from './history/pager.ts';

/**
 * Read positions and unread counts, with the db function as their only writer: the HTTP route
 * and the socket's `read` (through the bus) both land here, and every move is announced as
 * conversation.read, so other members' clients hear of it whichever way it came.
 *
 * Unread is counters, not a count of rows: the conversation keeps msgCount (and per sender
 * `sent`), each position keeps both as they were at its message, and
 * unread = (msgCount - count) - (own sent - own sent at the position) - (sysCount - sys at the
 * position): others' messages after it, system messages left out (docs/groups.md).
 */
export class ReadsService {
  constructor(
    private readonly deps: {
      messages: MessagesRepository;
      chunks: ChunksRepository;
      reads: ReadPositionsRepository;
      announce: (e: ReadEvent) => void;
    },
  ) {}

  /** Moves userId's position forward to messageId; 'missing' when it is not a stored message of conv. */
  async markRead(conv: ConversationRecord, userId: string, messageId: string): Promise<'moved' | 'unchanged' | 'missing'> {
    const found = await this.deps.messages.findWithChunk(messageId);
    // A reply kept out of the channel is not in the conversation's history: it has a thread position instead.
    if (!found || found.message.conversationId !== conv.id || (found.message.threadRootId && !found.message.alsoToChannel)) return 'missing';
    const at = await this.positionAt(conv, found.message, found.chunk, userId);
    // The members go with the position, so a member's conversation list finds it (docs/storage.md).
    if (!(await this.deps.reads.advance(conv.id, userId, at, conv.memberIds))) return 'unchanged';
    this.deps.announce({ conversationId: conv.id, userId, messageId });
    return 'moved';
  }

  private async positionAt(conv: ConversationRecord, m: Message, chunk: number | null, userId: string): Promise<{ messageId: string; count: number; sent: number; mentioned: number; sys: number }> {
    const at = await countersAt(conversationSource(conv, this.deps), m, chunk, userId, {
      count: conv.msgCount,
      sent: conv.sent[userId] ?? 0,
      mentioned: conv.mentioned[userId] ?? 0,
      sys: conv.sysCount,
      last: conv.lastMessageId ?? '',
    });
    return { messageId: m.id, ...at };
  }
}

/**
 * A stream's counters at message m (a conversation's or a thread's: the stream's count, the
 * reader's own and the reader's mentions, and its newest id). They are exact for the stream's last
 * message; for an older one, the chunks from m's to the newest tell how many counted messages are
 * newer than m (a reader marks what they just saw, so that is one or two chunks). Stored messages
 * the counters do not include yet (their batch is between insert and counter write) count too.
 */
export async function countersAt(
  src: ChunkSource,
  m: Message,
  chunk: number | null,
  userId: string,
  totals: { count: number; sent: number; mentioned?: number; sys?: number; last: string },
): Promise<{ count: number; sent: number; mentioned: number; sys: number }> {
  const { last } = totals;
  if (m.id === last) return { count: totals.count, sent: totals.sent, mentioned: totals.mentioned ?? 0, sys: totals.sys ?? 0 };
  const from = chunk ?? (await src.locate(m.id));
  let { count, sent } = totals;
  let mentioned = totals.mentioned ?? 0;
  let sys = totals.sys ?? 0;
  for (let no = from; no <= Math.max(src.openNo, from); no++) {
    for (const x of await src.read(no)) {
      const delta = x.id > m.id && x.id <= last ? -1 : x.id <= m.id && x.id > last ? 1 : 0;
      count += delta;
      if (x.kind === 'system') sys += delta;
      else if (x.senderId === userId) sent += delta;
      if (mentionedOthers(x).includes(userId)) mentioned += delta;
    }
  }
  return { count: Math.max(0, count), sent: Math.max(0, sent), mentioned: Math.max(0, mentioned), sys: Math.max(0, sys) };
}

/** Others' messages after the position that mention userId (the sidebar's mention badge). */
export function unreadMentionCount(conv: ConversationRecord, userId: string, pos: ReadPositionRecord | undefined): number {
  return Math.max(0, (conv.mentioned[userId] ?? 0) - (pos?.mentioned ?? 0));
}

/**
 * Others' messages after a position: (stream's count − count at it) − (own count − own at it) −
 * (system messages − system at it), since system messages are nobody's unread.
 */
export function unreadFrom(total: { count: number; sent: number; sys?: number }, at: { count: number; sent: number; sys?: number } | undefined): number {
  const others = total.count - (at?.count ?? 0);
  const own = total.sent - (at?.sent ?? 0);
  const system = (total.sys ?? 0) - (at?.sys ?? 0);
  return Math.max(0, others - Math.max(0, own) - Math.max(0, system));
}

/** Others' messages after the position (all of them when the member never read). */
export function unreadCount(conv: ConversationRecord, userId: string, pos: ReadPositionRecord | undefined): number {
  return unreadFrom({ count: conv.msgCount, sent: conv.sent[userId] ?? 0, sys: conv.sysCount }, pos);
}

import type { ReadEvent } from '@chat/shared/events/bus';
import type { Message } from '@chat/shared/models/types';
import type { ChunksRepository } from '@chat/shared/repositories/chunks';
import type { ConversationRecord, ReadPositionRecord, ReadPositionsRepository } from '@chat/shared/repositories/conversations';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import { conversationSource } from './history/conversation-stream.ts';

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
    if (!found || found.message.conversationId !== conv.id) return 'missing';
    const at = await this.positionAt(conv, found.message, found.chunk, userId);
    if (!(await this.deps.reads.advance(conv.id, userId, at))) return 'unchanged';
    this.deps.announce({ conversationId: conv.id, userId, messageId });
    return 'moved';
  }

  /**
   * The counters at message m. They are exact for the conversation's last message; for an older
   * one, the chunks from m's to the newest tell how many counted messages are newer than m (a
   * reader marks what they just saw, so that is one or two chunks). Stored messages the
   * counters do not include yet (their batch is between insert and counter write) count too.
   */
  private async positionAt(conv: ConversationRecord, m: Message, chunk: number | null, userId: string): Promise<{ messageId: string; count: number; sent: number; sys: number }> {
    const mine = conv.sent[userId] ?? 0;
    const last = conv.lastMessageId ?? '';
    if (m.id === last) return { messageId: m.id, count: conv.msgCount, sent: mine, sys: conv.sysCount };
    const src = conversationSource(conv, this.deps);
    const from = chunk ?? (await src.locate(m.id));
    let count = conv.msgCount;
    let sent = mine;
    let sys = conv.sysCount;
    for (let no = from; no <= Math.max(src.openNo, from); no++) {
      for (const x of await src.read(no)) {
        const delta = x.id > m.id && x.id <= last ? -1 : x.id <= m.id && x.id > last ? 1 : 0;
        count += delta;
        if (x.kind === 'system') sys += delta;
        else if (x.senderId === userId) sent += delta;
      }
    }
    return { messageId: m.id, count: Math.max(0, count), sent: Math.max(0, sent), sys: Math.max(0, sys) };
  }
}

/** Others' messages after the position (all of them when the member never read). */
export function unreadCount(conv: ConversationRecord, userId: string, pos: ReadPositionRecord | undefined): number {
  const others = conv.msgCount - (pos?.count ?? 0);
  const own = (conv.sent[userId] ?? 0) - (pos?.sent ?? 0);
  const system = conv.sysCount - (pos?.sys ?? 0);
  return Math.max(0, others - Math.max(0, own) - Math.max(0, system));
}

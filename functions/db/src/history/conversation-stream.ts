import type { ChunksRepository } from '@chat/shared/repositories/chunks';
import type { ConversationRecord, ConversationsRepository } from '@chat/shared/repositories/conversations';
import type { MessagesRepository } from '@chat/shared/repositories/messages';
import { locateClosed } from './chunker.ts';
import { memoized, type ChunkSource } from './pager.ts';
import type { StreamStore } from './placer.ts';

/** A conversation as a chunked stream: its record keeps the open chunk (chunkNo/chunkStart/chunkBase). */
export function conversationStreams(conversations: ConversationsRepository, chunks: ChunksRepository): StreamStore {
  return {
    async load(id) {
      const rec = await conversations.findById(id);
      if (!rec) return { open: { no: 0, start: '', count: 0, max: '' }, base: 0 };
      return { open: { no: rec.chunk.no, start: rec.chunk.start, count: Math.max(0, rec.msgCount - rec.chunk.base), max: rec.lastMessageId ?? '' }, base: rec.chunk.base };
    },
    open: (id, next) => chunks.open(id, next),
    setOpen: (id, chunk) => conversations.setOpenChunk(id, chunk),
    startOf: (id, no) => chunks.startOf(id, no),
    find: (id, no) => chunks.find(id, no),
  };
}

/** How a request reads one conversation's history (each chunk at most once per request). */
export function conversationSource(conv: ConversationRecord, deps: { messages: MessagesRepository; chunks: ChunksRepository }): ChunkSource {
  return memoized({
    openNo: conv.chunk.no,
    read: (no) => deps.messages.readChunk(conv.id, no),
    async locate(anchorId) {
      const found = await deps.messages.findWithChunk(anchorId);
      if (found && found.message.conversationId === conv.id && found.chunk !== null) return found.chunk;
      // Not a stored message of this conversation (e.g. one delivered live and not stored yet):
      // the chunk whose id range holds it, as an id comparison would have found.
      return locateClosed(anchorId, conv.chunk, (no) => deps.chunks.startOf(conv.id, no));
    },
  });
}

import type { ChunksRepository } from '@chat/shared/repositories/chunks';
import { threadStream, type MessagesRepository, type ThreadState } from '@chat/shared/repositories/messages';
import { locateClosed } from './chunker.ts';
import { memoized, type ChunkSource } from './pager.ts';
import type { StreamStore } from './placer.ts';

/** "<conversationId>/<rootId>" → the root's id (ids never hold a slash). */
const rootOf = (stream: string) => stream.slice(stream.indexOf('/') + 1);

/**
 * A thread as a chunked stream: its root's document keeps the open chunk (threadChunkNo/Start/Base)
 * next to the counters (replyCount, lastReplyId), as a conversation's record does for its own.
 */
export function threadStreams(messages: MessagesRepository, chunks: ChunksRepository): StreamStore {
  return {
    async load(stream) {
      const found = await messages.findThreadRoot(rootOf(stream));
      const s = found?.state;
      if (!s) return { open: { no: 0, start: '', count: 0, max: '' }, base: 0 };
      return { open: { no: s.chunk.no, start: s.chunk.start, count: Math.max(0, s.replyCount - s.chunk.base), max: s.lastReplyId ?? '' }, base: s.chunk.base };
    },
    open: (stream, next) => chunks.open(stream, next),
    setOpen: (stream, chunk) => messages.setThreadOpenChunk(rootOf(stream), chunk),
    startOf: (stream, no) => chunks.startOf(stream, no),
    find: (stream, no) => chunks.find(stream, no),
  };
}

/** How a request reads one thread's replies (each chunk at most once per request). */
export function threadSource(conversationId: string, rootId: string, state: ThreadState, deps: { messages: MessagesRepository; chunks: ChunksRepository }): ChunkSource {
  const stream = threadStream(conversationId, rootId);
  return memoized({
    openNo: state.chunk.no,
    read: (no) => deps.messages.readThreadChunk(conversationId, rootId, no),
    async locate(anchorId) {
      const found = await deps.messages.findWithThreadChunk(anchorId);
      if (found && found.message.threadRootId === rootId && found.chunk !== null) return found.chunk;
      return locateClosed(anchorId, state.chunk, (no) => deps.chunks.startOf(stream, no));
    },
  });
}

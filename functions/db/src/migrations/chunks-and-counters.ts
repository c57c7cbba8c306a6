import type { Logger } from '@chat/shared/log';
import type { Models } from '@chat/shared/models/schemas';
import { chunkFields } from '@chat/shared/repositories/messages';
import { ChunksRepository } from '@chat/shared/repositories/chunks';
import { placeInOpen } from '../history/chunker.ts';
import { forEachConversation, type ConversationStepOptions, type MigrationStep } from './runner.ts';

const ID = '2026-12-chunks-and-counters';

type Options = ConversationStepOptions;

/**
 * Brings messages stored before history chunks and counters existed into today's shape, one
 * conversation at a time: every message gets its chunk (placed in id order by the same rules as
 * live storage), closed chunks are recorded, and the conversation gets its open chunk, last
 * message and counters; each read position gets the counters at its message. Every write sets a
 * value computed from the messages, so a conversation redone after a kill ends the same.
 */
export async function migrateChunksAndCounters(ctx: { models: Models; log: Logger }, opts: Options = {}): Promise<void> {
  const { Conversation, Message, ReadPosition } = ctx.models;
  const chunks = new ChunksRepository(ctx.models.Chunk);
  await forEachConversation(ctx, ID, opts, async (convId) => {
    const docs = (await Message.find({ conversationId: { $eq: convId } }, { _id: 1, senderId: 1, chunk: 1, chunkId: 1 }).lean<Array<{ _id: string; senderId: string; chunk?: number; chunkId?: string }>>()).sort((a, b) =>
      a._id < b._id ? -1 : a._id > b._id ? 1 : 0,
    );
    const placed = placeInOpen({ no: 0, start: '', count: 0, max: '' }, docs.map((d) => d._id));
    const ops = docs.flatMap((d, i) => {
      const want = chunkFields(convId, placed.chunks[i]!);
      return d.chunk === want.chunk && d.chunkId === want.chunkId ? [] : [{ updateOne: { filter: { _id: d._id }, update: { $set: want } } }];
    });
    // Chunks from 1 on, each opened at its first message (same values on a rerun, so a
    // duplicate is ours from before the kill).
    await Promise.all(
      docs.flatMap((d, i) => (placed.chunks[i]! > 0 && placed.chunks[i] !== placed.chunks[i - 1] ? [chunks.open(convId, { no: placed.chunks[i]!, start: d._id, base: i })] : [])),
    );
    for (let i = 0; i < ops.length; i += opts.batch ?? 1000) {
      await Message.bulkWrite(ops.slice(i, i + (opts.batch ?? 1000)), { ordered: false });
      await opts.checkpoint?.();
    }
    // Counters: how many messages (and of each sender) there are up to each position, in one
    // pass over the sorted ids; a position on a message that is gone counts what is below it.
    const sent: Record<string, number> = {};
    const positions = (await ReadPosition.find({ conversationId: { $eq: convId } }).lean()).sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
    const counted: Array<{ userId: string; count: number; sent: number }> = [];
    let i = 0;
    for (const p of positions) {
      for (; i < docs.length && docs[i]!._id <= p.messageId; i++) sent[docs[i]!.senderId] = (sent[docs[i]!.senderId] ?? 0) + 1;
      counted.push({ userId: p.userId, count: i, sent: sent[p.userId] ?? 0 });
    }
    for (; i < docs.length; i++) sent[docs[i]!.senderId] = (sent[docs[i]!.senderId] ?? 0) + 1;
    await Promise.all(counted.map((c) => ReadPosition.updateOne({ conversationId: convId, userId: c.userId }, { $set: { count: c.count, sent: c.sent } })));
    const last = docs.at(-1);
    await Conversation.updateOne(
      { _id: convId },
      {
        $set: {
          chunkNo: placed.open.no,
          chunkStart: placed.open.start,
          chunkBase: docs.length - placed.open.count,
          msgCount: docs.length,
          sent,
          ...(last ? { lastMessageId: last._id } : {}),
        },
      },
    );
    return docs.length;
  }, (at, messages) => at.conversations % 100 === 0 || messages >= 10_000);
}

export const chunksAndCounters: MigrationStep = { id: ID, run: (ctx) => migrateChunksAndCounters(ctx) };

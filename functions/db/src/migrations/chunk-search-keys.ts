import type { Logger } from '@chat/shared/log';
import type { Models } from '@chat/shared/models/schemas';
import { chunkId } from '@chat/shared/repositories/chunks';
import { MessagesRepository } from '@chat/shared/repositories/messages';
import { messageSearchKeys } from '@chat/shared/search/terms';
import { forEachConversation, type ConversationProgress, type ConversationStepOptions, type MigrationStep } from './runner.ts';

const ID = '2026-12-chunk-search-keys';
/** Messages updated per bulk write. */
const BATCH = 500;

type Options = ConversationStepOptions;

const same = (a: readonly string[] | undefined, b: readonly string[]) => !!a && a.length === b.length && a.every((k, i) => k === b[i]);

/**
 * Gives every stored message the search keys of today's shape (docs/search.md): its
 * conversation's keys and its chunk's, so search can read a common word newest chunk first. Runs
 * after the chunks and the first search keys exist. One conversation at a time in _id order (one
 * equality read of its messages); a message is written only when its keys differ from what its
 * body and chunk give, and only while its body is still the one they were computed from, so a
 * conversation redone after a kill writes nothing twice and a rerun writes nothing at all.
 */
export async function migrateChunkSearchKeys(ctx: { models: Models; log: Logger }, opts: Options = {}): Promise<void> {
  const { Message } = ctx.models;
  const messages = new MessagesRepository(Message);
  const batch = opts.batch ?? BATCH;
  let nextReport = 10_000;
  const report = (at: ConversationProgress) => {
    if (at.messages < nextReport && at.conversations % 100 !== 0) return false;
    nextReport = at.messages + 10_000;
    return true;
  };
  await forEachConversation(ctx, ID, opts, async (convId) => {
    const docs = await Message.find({ conversationId: { $eq: convId } }, { _id: 1, body: 1, deletedAt: 1, chunk: 1, searchKeys: 1 }).lean<
      Array<{ _id: string; body?: string | null; deletedAt?: Date | null; chunk?: number; searchKeys?: string[] }>
    >();
    const todo = docs.flatMap((d) => {
      if (d.deletedAt) return [];
      const body = d.body ?? '';
      const keys = messageSearchKeys(convId, body, typeof d.chunk === 'number' ? chunkId(convId, d.chunk) : null);
      return same(d.searchKeys, keys) ? [] : [{ id: d._id, body, keys }];
    });
    for (let i = 0; i < todo.length; i += batch) {
      await messages.replaceSearchKeys(todo.slice(i, i + batch));
      await opts.checkpoint?.();
    }
    return todo.length;
  }, report);
}

export const chunkSearchKeys: MigrationStep = { id: ID, run: (ctx) => migrateChunkSearchKeys(ctx) };

import { SearchIndexRepository } from '@chat/shared/repositories/search';
import { UsersRepository } from '@chat/shared/repositories/users';
import type { MigrationStep } from './runner.ts';

/** Messages indexed per insertMany; progress is logged every PROGRESS_EVERY messages. */
const BATCH = 500;
const PROGRESS_EVERY = 5000;

/**
 * Backfills the search index (search_index entries for messages, users' prefix keys) for data
 * stored before search used it. Resumable: entries are keyed by message id and inserted with
 * duplicates ignored, and a user's keys are a pure function of the user, so a run killed half way
 * and started again ends with exactly the entries one uninterrupted run writes. Every read is by
 * equality (a conversation's messages, one conversation at a time), as FerretDB pushes nothing
 * else down; a deleted message gets no entry.
 */
export const searchIndexStep: MigrationStep = {
  id: 'search-index-v1',
  async run({ models, log }) {
    const index = new SearchIndexRepository(models.SearchEntry);
    const users = new UsersRepository(models.User);

    // Users: only those without keys; each update is idempotent.
    const people = await models.User.find({}, { username: 1, displayName: 1, searchKeys: 1 }).lean<Array<{ _id: { toString(): string }; username: string; displayName: string; searchKeys?: string[] }>>();
    const missing = people.filter((u) => !u.searchKeys || u.searchKeys.length === 0);
    for (const u of missing) await users.setSearchKeys(u._id.toString(), u.username, u.displayName);
    log.info('search-index: user prefix keys', { users: people.length, updated: missing.length });

    const conversations = await models.Conversation.find({}, { _id: 1 }).lean<Array<{ _id: { toString(): string } }>>();
    let done = 0;
    let nextReport = PROGRESS_EVERY;
    for (const [i, c] of conversations.entries()) {
      const conversationId = c._id.toString();
      const messages = await models.Message.find({ conversationId: { $eq: conversationId } }, { _id: 1, conversationId: 1, body: 1, editedAt: 1, deletedAt: 1 })
        .lean<Array<{ _id: string; conversationId: string; body?: string | null; editedAt?: Date | null; deletedAt?: Date | null }>>();
      for (let j = 0; j < messages.length; j += BATCH) {
        await index.indexMany(messages.slice(j, j + BATCH).map((m) => ({ id: m._id, conversationId: m.conversationId, body: m.body ?? '', editedAt: m.editedAt ?? null, deletedAt: m.deletedAt ?? null })));
      }
      done += messages.length;
      if (done >= nextReport || i === conversations.length - 1) {
        log.info('search-index: messages indexed', { messages: done, conversations: i + 1, of: conversations.length });
        nextReport = done + PROGRESS_EVERY;
      }
    }
  },
};

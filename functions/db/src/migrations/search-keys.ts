import { MessagesRepository } from '@chat/shared/repositories/messages';
import { UsersRepository } from '@chat/shared/repositories/users';
import { messageSearchKeys } from '@chat/shared/search/terms';
import type { MigrationStep } from './runner.ts';

/** Messages updated per bulk write; progress is logged every PROGRESS_EVERY messages. */
const BATCH = 500;
const PROGRESS_EVERY = 5000;

/**
 * Backfills search keys (messages' `searchKeys`, users' prefix keys) for data stored before search
 * used them. Resumable: only messages without `searchKeys` are written, each update is by `_id`
 * and leaves keys an edit or delete wrote meanwhile, and a user's keys are a pure function of the
 * user, so a run killed half way and started again ends as one uninterrupted run. Every read is by
 * equality (a conversation's messages, one conversation at a time), as FerretDB pushes nothing
 * else down; a deleted message gets empty keys.
 */
export const searchKeysStep: MigrationStep = {
  id: 'search-keys-v1',
  async run({ models, log }) {
    const messages = new MessagesRepository(models.Message);
    const users = new UsersRepository(models);

    // Users: only those without keys; each update is idempotent.
    const people = await models.User.find({}, { username: 1, displayName: 1, searchKeys: 1 }).lean<Array<{ _id: { toString(): string }; username: string; displayName: string; searchKeys?: string[] }>>();
    const missing = people.filter((u) => !u.searchKeys || u.searchKeys.length === 0);
    for (const u of missing) await users.setSearchKeys(u._id.toString(), u.username, u.displayName);
    log.info('search-keys: user prefix keys', { users: people.length, updated: missing.length });

    const conversations = await models.Conversation.find({}, { _id: 1 }).lean<Array<{ _id: { toString(): string } }>>();
    let done = 0;
    let nextReport = PROGRESS_EVERY;
    for (const [i, c] of conversations.entries()) {
      const conversationId = c._id.toString();
      const stored = await models.Message.find({ conversationId: { $eq: conversationId } }, { _id: 1, body: 1, deletedAt: 1, searchKeys: 1 })
        .lean<Array<{ _id: string; body?: string | null; deletedAt?: Date | null; searchKeys?: string[] }>>();
      const todo = stored.filter((m) => !Array.isArray(m.searchKeys)).map((m) => ({ id: m._id, keys: m.deletedAt ? [] : messageSearchKeys(conversationId, m.body ?? '') }));
      for (let j = 0; j < todo.length; j += BATCH) await messages.setMissingSearchKeys(todo.slice(j, j + BATCH));
      done += todo.length;
      if (done >= nextReport || i === conversations.length - 1) {
        log.info('search-keys: messages given keys', { messages: done, conversations: i + 1, of: conversations.length });
        nextReport = done + PROGRESS_EVERY;
      }
    }
  },
};

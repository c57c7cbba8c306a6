import type { Model } from 'mongoose';
import { insertManyIgnoringDuplicates, isDuplicateKey } from '../infra/mongo.ts';
import type { SearchEntryDoc } from '../models/schemas.ts';
import { indexTerms, termKey } from '../search/terms.ts';

/** What indexing needs of a message. */
export interface Indexable {
  id: string;
  conversationId: string;
  body: string;
  editedAt?: string | Date | null;
  deletedAt?: string | Date | null;
}

export const toSearchEntry = (m: Indexable): SearchEntryDoc => ({
  _id: m.id,
  conversationId: m.conversationId,
  keys: indexTerms(m.body).map((t) => termKey(m.conversationId, t)),
  editedAt: m.editedAt ? new Date(m.editedAt) : null,
});

export interface SearchHit {
  messageId: string;
  /** The entry's keys (termKey of each term), when asked for. */
  keys: Set<string> | null;
}

/**
 * The message search index (see searchEntrySchema). Every write is idempotent: entries are keyed
 * by message id, so a redelivered batch or a resumed migration leaves exactly one per message.
 */
export class SearchIndexRepository {
  constructor(private readonly model: Model<SearchEntryDoc>) {}

  /**
   * Indexes messages in one insertMany; a message indexed before is left as it is. A message
   * without words (attachments only) gets no entry until an edit gives it some.
   */
  async indexMany(messages: Indexable[]): Promise<void> {
    const entries = messages.filter((m) => !m.deletedAt).map(toSearchEntry);
    await insertManyIgnoringDuplicates(this.model, entries.filter((e) => e.keys.length > 0));
  }

  /** Replaces a message's terms after an edit, unless a later edit's terms are already there. */
  async reindex(m: Indexable & { editedAt: string | Date }): Promise<void> {
    const entry = toSearchEntry(m);
    const res = await this.model.updateOne(
      { _id: { $eq: m.id }, $or: [{ editedAt: null }, { editedAt: { $lte: entry.editedAt } }] },
      { $set: { conversationId: entry.conversationId, keys: entry.keys, editedAt: entry.editedAt } },
    );
    if (res.matchedCount === 1) return;
    try {
      await this.model.create(entry);
    } catch (e) {
      // An entry with a newer edit is already there: it stays.
      if (!isDuplicateKey(e)) throw e;
    }
  }

  async remove(messageId: string): Promise<void> {
    await this.model.deleteOne({ _id: { $eq: messageId } });
  }

  /** Entries of one conversation holding a term: one equality lookup on `keys`. */
  async lookup(conversationId: string, term: string, withKeys: boolean): Promise<SearchHit[]> {
    const docs = await this.model
      .find({ keys: { $eq: termKey(conversationId, term) } }, withKeys ? { _id: 1, keys: 1 } : { _id: 1 })
      .lean<Array<Pick<SearchEntryDoc, '_id' | 'keys'>>>();
    return docs.map((d) => ({ messageId: d._id, keys: withKeys ? new Set(d.keys ?? []) : null }));
  }
}

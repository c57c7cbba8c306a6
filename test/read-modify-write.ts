import type { Model } from 'mongoose';

type Doc = Record<string, unknown>;
type Update = { $max?: Record<string, string | number>; $set?: Doc; $setOnInsert?: Doc };

/**
 * A collection as FerretDB 1.24 updates it, for unit tests of writers that must not race: an
 * upsert (`findOneAndUpdate(filter, update).lean()`, answering the document as it was) reads the
 * document, applies `$max`, `$set` and, on insert, `$setOnInsert` to that copy, and writes the
 * whole copy back a moment later, with no compare-and-set in between. `keyOf` names a filter's
 * document; `inserted` gives the fields a new one starts with (its filter's equalities).
 */
export function readModifyWriteModel<D>(keyOf: (filter: never) => string, inserted: (filter: never) => Doc) {
  const docs = new Map<string, Doc>();
  const model = {
    findOneAndUpdate: (filter: never, update: Update) => ({
      lean: async () => {
        const key = keyOf(filter);
        const prev = docs.get(key);
        const next: Doc = prev ? { ...prev } : { ...inserted(filter), ...update.$setOnInsert };
        for (const [f, v] of Object.entries(update.$max ?? {})) if (next[f] == null || (next[f] as string | number) < v) next[f] = v;
        Object.assign(next, update.$set);
        await new Promise((r) => setTimeout(r, 5));
        docs.set(key, next);
        return prev ? { ...prev } : null;
      },
    }),
  };
  return { model: model as unknown as Model<D>, docs };
}

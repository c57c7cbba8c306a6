import mongoose, { type Connection } from 'mongoose';
import { bindModels, type Models } from '../models/schemas.ts';

export interface Mongo {
  conn: Connection;
  models: Models;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** One connection per process; indexes are ensured before the service reports ready. */
export async function connectMongo(url: string): Promise<Mongo> {
  const conn = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: 5000,
    maxPoolSize: 20,
    // FerretDB does not implement retryable writes; idempotent writes make retries ours to do.
    retryWrites: false,
    // ensureIndexes below does both, cheaper.
    autoIndex: false,
    autoCreate: false,
  });
  await conn.asPromise();
  const models = bindModels(conn);
  await ensureIndexes(conn, models);
  return {
    conn,
    models,
    ping: async () => {
      await conn.db!.command({ ping: 1 });
    },
    close: () => conn.close(),
  };
}

/**
 * Creates the missing collections and the schemas' indexes where any is missing. Every process
 * start used to send one createCollection and one createIndex per index (sequential within a
 * collection), which on FerretDB was most of a function's startup; listing the collections and a
 * collection's indexes is one round trip each, and only a new database or a new index pays for
 * creation. The unique indexes exist before anything is served, as idempotent writes rely on them.
 * Collections are created up front even without an index of their own: on FerretDB the stack's
 * equality indexes (scripts/stack/infra.ts) are added to the tables that exist when the services
 * are ready, and a table created later by its first write answered every `_id` lookup by a scan.
 */
async function ensureIndexes(conn: Connection, models: Models): Promise<void> {
  const existing = new Set((await conn.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  await Promise.all(
    Object.values(models).map(async (m) => {
      if (!existing.has(m.collection.collectionName)) await m.createCollection().catch((e: unknown) => {
        // Another process created it meanwhile (NamespaceExists).
        if ((e as { code?: number }).code !== 48) throw e;
      });
      const { toCreate } = await m.diffIndexes();
      if (toCreate.length > 0) await m.createIndexes();
    }),
  );
}

/** Mongo's duplicate-key error, which idempotent inserts treat as "already done". */
export const isDuplicateKey = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && 'code' in e && (e as { code: unknown }).code === 11000;

/** An unordered insertMany whose every failure is a duplicate key (what was already stored). */
export function hasOnlyDuplicateErrors(e: unknown): boolean {
  const writeErrors = (e as { writeErrors?: Array<{ code?: number; err?: { code?: number } }> }).writeErrors;
  return Array.isArray(writeErrors) && writeErrors.length > 0 && writeErrors.every((w) => (w.code ?? w.err?.code) === 11000);
}

/**
 * insertMany with ordered:false where a document already stored (duplicate key) counts as done:
 * every other document is still written, and only a different error is thrown.
 */
export async function insertManyIgnoringDuplicates<T>(model: { insertMany(docs: T[], opts: { ordered: false; lean: true }): Promise<unknown> }, docs: T[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await model.insertMany(docs, { ordered: false, lean: true });
  } catch (e) {
    if (!isDuplicateKey(e) && !hasOnlyDuplicateErrors(e)) throw e;
  }
}
